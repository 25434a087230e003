/**
 * `export:` in an environment file: apply and kill rewrite the file with the live definitions
 * after every run (after a revert too), flagd-core reads it as the rule serves, and a file that
 * cannot be written is reported (exit 1) while the change it follows stays committed.
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlagdCore } from '@openfeature/flagd-core';
import type { Logger } from '@openfeature/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { sql } from '../support/sql.ts';

const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

const environment = (stage: string, exportBlock = 'export: { file: flags/test.flagd.json }\n', theme = 'blue'): string => `${exportBlock}flags:
  ui.theme:
    value: { name: ${theme} }
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: ${stage} }
  shop.safe_mode:
    value: { enabled: false }
    kill_switch: true
`;

const served = async (db: TestDatabase, key: string): Promise<unknown> => {
  const core = new FlagdCore(undefined, quiet);
  core.setConfigurations(await readFile(join(db.root, 'flags', 'test.flagd.json'), 'utf8'));
  return core.resolve('object', key, null as never, { targetingKey: 'user-1' }, quiet).value;
};

describe.each(databaseTargets())('export: on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('apply and kill rewrite the file with what is live', async () => {
    await writeEnvironment(db, environment('off'));
    const first = await cliOn(db, ['apply', '--env', 'test']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('test: wrote 3 flag(s) as flagd definitions to flags/test.flagd.json (export:)');
    expect(await served(db, 'checkout.v2')).toEqual({ enabled: false });

    expect(await served(db, 'ui.theme')).toEqual({ name: 'blue' });
    await writeEnvironment(db, environment('off', undefined, 'green'));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    expect(await served(db, 'ui.theme')).toEqual({ name: 'green' });

    const kill = await cliOn(db, ['kill', '--env', 'test', '--flag', 'shop.safe_mode', '--reason', 'drill']);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toContain('wrote 3 flag(s)');
    expect(await served(db, 'shop.safe_mode')).toEqual({ enabled: true });
  });

  it('a breach that trips a kill switch in rollout health rewrites the file', async () => {
    const monitor = `monitors:
  - name: errors
    sql: SELECT 5
    above: 1
    severity: critical
    on_breach: { kill_switch: shop.safe_mode }
`;
    await writeEnvironment(db, environment('off') + monitor);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    expect(await served(db, 'shop.safe_mode')).toEqual({ enabled: false });
    const health = await cliOn(db, ['health', '--env', 'test']);
    expect(health.code, health.stdout + health.stderr).toBe(1);
    expect(await served(db, 'shop.safe_mode')).toEqual({ enabled: true });
  });

  it('a file that cannot be written is an error, and the apply it follows stands', async () => {
    await writeEnvironment(db, environment('off'));
    // A directory where the file should be: rename cannot replace it.
    await mkdir(join(db.root, 'flags', 'test.flagd.json'), { recursive: true });
    await chmod(join(db.root, 'flags'), 0o755);
    const run = await cliOn(db, ['apply', '--env', 'test']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: test: export flags\/test\.flagd\.json NOT written \(the previous file, if any, stays\): E\w+/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await sql(db, "SELECT key FROM rollout.flag_rollouts ORDER BY key")).toEqual([{ key: 'checkout.v2' }, { key: 'shop.safe_mode' }, { key: 'ui.theme' }]);
  });

  it('validate refuses a file outside the repository, with its position', async () => {
    await writeEnvironment(db, environment('off', 'export: { file: ../outside.json }\n'));
    const run = await cliOn(db, ['validate']);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/environments\/test\.yaml:\d+:\d+/);
    expect(run.stdout + run.stderr).toContain('export.file');
  });
});
