/**
 * Issue 13, defect 2: staging rolled a flag back (always allowed) while production's file
 * still has it further on. That refuses forward moves of that flag in production, and
 * nothing else: a kill-switch flip and other flags in the same file still apply.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const production = (safeMode: boolean, newFlow: string, banner = 'hello'): string => `flags:
  shop.safe_mode:
    value: { enabled: ${safeMode} }
    kill_switch: true
  checkout.new_flow:
    value: true
    off_value: false
    rollout: { stage: ${newFlow} }
  shop.banner:
    value: ${banner}
`;

describe.each(databaseTargets())('a downstream ahead of its upstream on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, production(false, 'dark'), 'production');
    // No upstream yet: production's first apply adopts dark.
    expect((await cliOn(db, ['apply', '--env', 'production'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  const writeStaging = (newFlow: string) =>
    writeFile(
      join(db.root, 'environments', 'staging.yaml'),
      `version: 1\ndatabase:\n  url_env: STAGING_URL\npromotes_to: production\n${production(false, newFlow).replace('    kill_switch: true\n', '    kill_switch: true\n')}`,
    );

  it('refuses only forward moves of that flag: the kill switch and other flags go through', async () => {
    // Staging rolled checkout.new_flow back to off; production's file still says dark.
    await writeStaging('off');
    const validate = await cliOn(db, ['validate']);
    expect(validate.code, validate.stdout).toBe(0);
    expect(validate.stdout).toMatch(/warning.*checkout\.new_flow' is at dark in production but only at off in staging.*apply refuses to move this flag forward/s);

    const plan = await cliOn(db, ['plan', '--env', 'production']);
    expect(plan.stdout).toMatch(/⚠ environments\/production\.yaml:\d+:\d+: flag 'checkout\.new_flow' is at dark in production but only at off in staging.*Set production back to off/);

    // The kill switch flip and an unrelated flag in the same production file apply.
    await writeEnvironment(db, production(true, 'dark', 'bye'), 'production');
    const apply = await cliOn(db, ['apply', '--env', 'production']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(await sql(db, "SELECT key, value FROM rollout.flags WHERE key IN ('shop.safe_mode', 'shop.banner') ORDER BY key")).toEqual([
      { key: 'shop.banner', value: 'bye' },
      { key: 'shop.safe_mode', value: { enabled: true } },
    ]);

    // A forward move of the flag that is ahead is refused, saying why.
    await writeEnvironment(db, production(true, 'shadow', 'bye'), 'production');
    const forward = await cliOn(db, ['apply', '--env', 'production']);
    expect(forward.code).toBe(1);
    expect(forward.stderr).toContain('checkout.new_flow');
    expect(forward.stderr).toContain('nothing was applied');
  });
});
