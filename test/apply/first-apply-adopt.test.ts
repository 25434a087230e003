/**
 * Issue 18: the first apply of production (an environment with an upstream, no ledger yet)
 * does not adopt a forward position silently. A flag at canary or full that staging has not
 * reached, or reached but not held for its soak, is refused, saying why and how; `--adopt`
 * acknowledges it; positions staging has soaked or passed, and every first apply of an
 * environment without an upstream, are adopted as before.
 */
import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, EMBEDDED_DIR, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';
import { LOCK_FILE_NAME } from '../../actions/engine/db/data-dir-lock.ts';

const flags = (newFlow: string): string => `flags:
  shop.safe_mode:
    value: { enabled: false }
    kill_switch: true
  checkout.new_flow:
    value: true
    off_value: false
    rollout: { ${newFlow} }
`;

describe.each(databaseTargets())('the first apply of an environment with an upstream on $name', (target) => {
  let production: TestDatabase;
  let staging: TestDatabase;
  /** The variables both environments' URLs are read from (none on the embedded database). */
  let processEnv: NodeJS.ProcessEnv;
  let stagingDatabase: string;

  beforeEach(async () => {
    production = await target.create();
    staging = await target.create();
    if (staging.env.database.kind === 'embedded') {
      // Both environments live in production's repository: staging gets a data directory of its own there.
      await cp(join(staging.root, EMBEDDED_DIR), join(production.root, '.rollout/staging'), { recursive: true });
      await rm(join(production.root, '.rollout/staging', LOCK_FILE_NAME), { force: true });
      stagingDatabase = 'database:\n  embedded: .rollout/staging\n';
      processEnv = {};
    } else {
      stagingDatabase = 'database:\n  url_env: STAGING_TEST_URL\n';
      processEnv = { STAGING_TEST_URL: staging.url };
    }
  });
  afterEach(async () => {
    await production.dispose();
    await staging.dispose();
  });

  const writeStaging = (newFlow: string): Promise<void> =>
    writeFile(join(production.root, 'environments', 'staging.yaml'), `version: 1\n${stagingDatabase}promotes_to: production\n${flags(newFlow)}`);
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => cliOn(production, args, { ...processEnv, ...extra });
  const ledgerRows = async (): Promise<number> => {
    const [{ exists }] = await sql<{ exists: boolean }>(production, "SELECT to_regclass('rollout.ledger') IS NOT NULL AS exists");
    return exists ? (await sql<{ n: number }>(production, 'SELECT count(*)::int AS n FROM rollout.ledger'))[0].n : 0;
  };

  it('refuses a canary position staging has not reached, says why and how; --adopt adopts it', async () => {
    await writeEnvironment(production, flags('stage: canary, percent: 5'), 'production');
    await writeStaging('stage: dark');
    // Staging has no upstream: its first apply adopts dark as it always did.
    const stagingApply = await run(['apply', '--env', 'staging']);
    expect(stagingApply.code, stagingApply.stderr).toBe(0);

    const plan = await run(['plan', '--env', 'production']);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('✗ First apply to production (no ledger yet): checkout.new_flow would start at canary 5%, but staging (its upstream) is at dark');

    const refused = await run(['apply', '--env', 'production']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cannot apply production: 1 stage move(s) refused by their gates; nothing was applied.');
    expect(refused.stderr).toContain('rollout does not adopt a forward position silently. If production already serves checkout.new_flow at canary 5%, run apply again with --adopt');
    expect(refused.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    expect(refused.stderr).not.toContain('Wait for the soak');
    expect(await ledgerRows()).toBe(0);

    const preview = await run(['plan', '--env', 'production', '--adopt']);
    expect(preview.code, preview.stdout).toBe(0);
    expect(preview.stdout).toContain('✓ First apply to production: checkout.new_flow is adopted at canary 5% as --adopt acknowledged, although staging (its upstream) is at dark.');

    const adopted = await run(['apply', '--env', 'production', '--adopt']);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(await sql(production, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'checkout.new_flow'")).toEqual([{ stage: 'canary', percent: 5 }]);
    expect(await ledgerRows()).toBe(1);
  });

  it('adopts without --adopt what staging has reached and held for its soak (not before), and positions short of canary', async () => {
    await writeEnvironment(production, flags('stage: canary, percent: 25'), 'production');
    await writeStaging('stage: canary, percent: 25');
    expect((await run(['apply', '--env', 'staging'])).code).toBe(0);
    // Reached a moment ago: canary 25% soaks 24 h (the default ladder), as a promotion would wait.
    const early = await run(['apply', '--env', 'production']);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/checkout\.new_flow would start at canary 25%, but staging \(its upstream\) has not held it there for its soak \(checkout\.new_flow has been at canary 25% in staging since \S+: [\d.]+ m?s of 24 h soaked; 24(\.0)? h to go\)/);
    expect(await ledgerRows()).toBe(0);
    const dayLater = new Date(Date.now() + 24 * 3_600_000 + 60_000).toISOString();
    const apply = await run(['apply', '--env', 'production'], { ROLLOUT_NOW: dayLater, ROLLOUT_TEST_CLOCK: '1' });
    expect(apply.code, apply.stderr).toBe(0);
    expect(await sql(production, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'checkout.new_flow'")).toEqual([{ stage: 'canary', percent: 25 }]);
  });

  it('refuses a forward first position while staging cannot be read: its position is unknown', async () => {
    await writeEnvironment(production, flags('stage: full'), 'production');
    await writeFile(join(production.root, 'environments', 'staging.yaml'), `version: 1\ndatabase:\n  url_env: UNSET_STAGING_URL\npromotes_to: production\n${flags('stage: full')}`);
    const refused = await run(['apply', '--env', 'production']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/checkout\.new_flow would start at full, but staging \(its upstream\) could not be read \(.*UNSET_STAGING_URL.*\)/);
    expect(await ledgerRows()).toBe(0);
    // A dark start serves no one outside its segments: adopted without --adopt, upstream or not.
    await writeEnvironment(production, flags('stage: dark'), 'production');
    expect((await run(['apply', '--env', 'production'])).code).toBe(0);
  });
});
