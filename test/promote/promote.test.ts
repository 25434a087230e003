/**
 * rollout promote on examples/seed-001-day0-cutover: staging's applied and soaked state
 * reaches production one rung per promotion, with kill switches and new flags, a minimal
 * edit of production.yaml, and the production plan in the PR body.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import { databaseTargets } from '../support/databases.ts';
import { recordHealthy, SEED_001_CRITERIA } from '../examples/measurements.ts';
import { days, exampleRepo, later, setRollout, setValue, type ExampleRepo } from '../examples/support.ts';

const HOUR = 3_600_000;
const NEW_FLAG = '  checkout.v2:\n    value: { enabled: true }\n    off_value: { enabled: false }\n    contract: toggle\n    rollout: { stage: off }\n';

describe.each(databaseTargets())('rollout promote on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-001-day0-cutover', target);
  });
  afterEach(() => repo.dispose());

  it('moves production one rung toward what staging has soaked, and holds what has not soaked', { timeout: 300_000 }, async () => {
    for (const env of ['staging', 'production']) expect((await repo.run(['apply', '--env', env])).code).toBe(0);

    // Staging enters internal (dark): not soaked yet, so nothing moves, and the output says why with numbers.
    await repo.edit('staging', (text) => setRollout(text, 'ranker.policy', { stage: 'dark' }));
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    const waiting = await repo.run(['promote', '--from', 'staging', '--to', 'production']);
    expect(waiting.stderr).toBe('');
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toContain('Nothing to promote');
    expect(waiting.stdout).toContain('= ranker.policy stays at off');
    expect(waiting.stdout).toMatch(/ranker\.policy has been at dark in staging since \S+: .+ of 24 h soaked; .+ to go/);

    // A day later staging is at 5%, with a new flag and safe mode on: production takes dark (one rung), the flag and the switch.
    const dayLater = later(days(1) + HOUR);
    await repo.edit('staging', (text) => setValue(setRollout(text, 'ranker.policy', { stage: 'canary', percent: 5 }), 'global.safe_mode', { enabled: true }));
    await repo.edit('staging', (text) => text.replace('\nchecks:', `${NEW_FLAG}\nchecks:`).replace(/\n(\n {2}checkout)/, '$1'));
    // The day of internal testing, measured healthy hourly: ranker.policy's exit criteria let it move on.
    await recordHealthy(repo, 'staging', 'ranker.policy', SEED_001_CRITERIA, 26);
    const staged = await repo.run(['apply', '--env', 'staging'], { now: dayLater });
    expect(staged.stderr).toBe('');
    expect(staged.code).toBe(0);
    const before = await repo.read('environments/production.yaml');

    const dry = await repo.run(['promote', '--from', 'staging', '--to', 'production'], { now: dayLater });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('+ ranker.policy off → dark');
    expect(dry.stdout).toContain('(staging is at canary 5%; one rung per promotion)');
    expect(dry.stdout).toContain('+ +checkout.v2');
    expect(dry.stdout).toContain('+ global.safe_mode value');
    expect(dry.stdout).toContain('-    rollout: { stage: off, segments: [internal] }   # off → internal (dark) → 5% → 25% → 100% (full)');
    expect(dry.stdout).toContain('+    rollout: { stage: dark, segments: [internal] }   # off → internal (dark) → 5% → 25% → 100% (full)');
    expect(dry.stdout).toContain('PR title: promote staging → production: global.safe_mode value, ranker.policy off → dark, +checkout.v2');
    expect(dry.stdout).toContain('##### rollout plan for `production`');
    expect(await repo.read('environments/production.yaml')).toBe(before);

    const written = await repo.run(['promote', '--from', 'staging', '--to', 'production', '--write', '--format', 'json'], { now: dayLater });
    expect(written.code).toBe(0);
    const json = JSON.parse(written.stdout) as { written: boolean; title: string; body: string; planHash: string | null; flags: Array<{ key: string; action: string }> };
    expect(json.written).toBe(true);
    expect(json.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(json.flags.map((f) => [f.key, f.action])).toEqual([
      ['global.safe_mode', 'value'],
      ['ranker.policy', 'move'],
      ['checkout.v2', 'add'],
    ]);
    const after = await repo.read('environments/production.yaml');
    expect(after).toContain('  ranker.policy:                  # what the canary rolls out (seed 001, section 5)\n');
    expect(after).toContain('    rollout: { stage: dark, segments: [internal] }   # off → internal (dark) → 5% → 25% → 100% (full)\n');
    expect(after).toContain(`    rollout: { stage: off }\n${NEW_FLAG}`);
    expect(loadRepository(repo.root).problems).toEqual([]);

    // Production applies the promotion; the upstream gate passes (staging is past dark).
    const applied = await repo.run(['apply', '--env', 'production'], { now: dayLater });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    // Right away, canary 5% has not soaked in staging: production stays at dark, and the PR says why.
    const again = await repo.run(['promote', '--from', 'staging', '--to', 'production'], { now: dayLater });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('ranker.policy stays at dark in production: the next rung, canary 5%, has not soaked in staging yet.');
    expect(again.stdout).toMatch(/ranker\.policy has been at canary 5% in staging since \S+: .+ of 2 d soaked; .+ to go/);
    expect(again.stdout).toContain('PR title: promote staging → production: nothing to promote');
  });

  it('renders the file diff when production cannot be read, and fails when staging cannot', { timeout: 120_000 }, async () => {
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await repo.edit('staging', (text) => setValue(text, 'global.safe_mode', { enabled: true }));
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await repo.edit('production', (text) => text.replace(/^ {2}(embedded|url_env): .*$/m, '  url_env: PRODUCTION_DATABASE_URL'));
    const blind = await repo.run(['promote', '--from', 'staging', '--to', 'production', '--format', 'markdown']);
    expect(blind.code).toBe(0);
    expect(blind.stdout).toContain('Environment variable PRODUCTION_DATABASE_URL is not set');
    expect(blind.stdout).toContain('```diff\n--- a/environments/production.yaml\n+++ b/environments/production.yaml\n');
    expect(blind.stdout).toContain('+    value: { enabled: true }');

    await repo.edit('staging', (text) => text.replace(/^ {2}(embedded|url_env): .*$/m, '  url_env: STAGING_DATABASE_URL'));
    const failed = await repo.run(['promote', '--from', 'staging', '--to', 'production']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("cannot read staging's live state: Environment variable STAGING_DATABASE_URL is not set");

    const wrongWay = await repo.run(['promote', '--from', 'production', '--to', 'staging']);
    // The arguments are the wrong way round: say so, not "set promotes_to" (that would make a cycle).
    expect(wrongWay.code).toBe(2);
    expect(wrongWay.stderr).toContain('promotion goes the other way: staging promotes to production (environments/staging.yaml has promotes_to: production). Run rollout promote --from staging --to production.');
  });
});
