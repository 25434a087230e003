import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';


const FLAGS_V1 = `flags:
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
  ranker.policy:
    value: { version: epsilon_greedy_v1, epsilon: 0.08 }
  marketplace.suggest:
    value: true
`;

describe.each(databaseTargets())('plan and apply on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('applies flags with a ledger entry, converges, and records old values', async () => {
    await writeEnvironment(db, FLAGS_V1);
    const planned = await cliOn(db, ['plan', '--env', 'test', '--format', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as { hash: string; summary: { add: number } };
    expect(plan.summary.add).toBe(3);
    // Plan never writes: the tool's schema does not exist yet.
    expect(await sql(db, "SELECT 1 FROM pg_namespace WHERE nspname = 'rollout'")).toEqual([]);

    const applied = await cliOn(db, ['apply', '--env', 'test', '--plan-hash', plan.hash]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('ledger entry #1');
    const flags = await sql<{ key: string; value: unknown }>(db, 'SELECT key, value FROM rollout.flags ORDER BY key');
    expect(flags).toEqual([
      { key: 'global.safe_mode', value: { enabled: false } },
      { key: 'marketplace.suggest', value: true },
      { key: 'ranker.policy', value: { version: 'epsilon_greedy_v1', epsilon: 0.08 } },
    ]);

    const again = await cliOn(db, ['apply', '--env', 'test']);
    expect(again.stdout).toContain('nothing to apply');
    expect(await sql(db, 'SELECT id FROM rollout.ledger')).toHaveLength(1);

    await writeEnvironment(db, FLAGS_V1.replace('epsilon: 0.08', 'epsilon: 0.1').replace('  marketplace.suggest:\n    value: true\n', ''));
    const second = await cliOn(db, ['plan', '--env', 'test']);
    expect(second.stdout).toContain('~ epsilon: 0.08 → 0.1');
    expect(second.stdout).toMatch(/- marketplace\.suggest\s+remove/);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    const changes = await sql<{ key: string; action: string; old_value: unknown; new_value: unknown }>(
      db,
      'SELECT key, action, old_value, new_value FROM rollout.ledger_changes WHERE ledger_id = 2 ORDER BY key',
    );
    expect(changes).toEqual([
      { key: 'marketplace.suggest', action: 'remove', old_value: true, new_value: null },
      { key: 'ranker.policy', action: 'change', old_value: { version: 'epsilon_greedy_v1', epsilon: 0.08 }, new_value: { version: 'epsilon_greedy_v1', epsilon: 0.1 } },
    ]);
    expect(await sql(db, "SELECT 1 FROM rollout.flags WHERE key = 'marketplace.suggest'")).toEqual([]);
  });

  it('refuses a stale plan and applies nothing', async () => {
    await writeEnvironment(db, FLAGS_V1);
    const plan = JSON.parse((await cliOn(db, ['plan', '--env', 'test', '--format', 'json'])).stdout) as { hash: string };
    await writeEnvironment(db, FLAGS_V1.replace('epsilon: 0.08', 'epsilon: 0.2'));
    const applied = await cliOn(db, ['apply', '--env', 'test', '--plan-hash', plan.hash]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/no longer matches test.*Nothing was applied/);
    expect(await sql(db, "SELECT to_regclass('rollout.ledger') IS NULL OR NOT EXISTS (SELECT 1 FROM rollout.ledger) AS empty")).toEqual([{ empty: true }]);
  });

  const planHash = async (): Promise<string> => (JSON.parse((await cliOn(db, ['plan', '--env', 'test', '--format', 'json'])).stdout) as { hash: string }).hash;
  const refusedAsStale = async (hash: string): Promise<void> => {
    const applied = await cliOn(db, ['apply', '--env', 'test', '--plan-hash', hash]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/the reviewed plan \([0-9a-f]{12}\) no longer matches test.*Nothing was applied/);
  };
  const ledgerRows = async (): Promise<number> => (await sql<{ n: number }>(db, 'SELECT count(*)::int AS n FROM rollout.ledger'))[0].n;

  it('refuses a plan whose live value was changed by hand since it was reviewed', async () => {
    await writeEnvironment(db, FLAGS_V1);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await writeEnvironment(db, FLAGS_V1.replace('epsilon: 0.08', 'epsilon: 0.2'));
    const reviewed = await planHash();
    await sql(db, `UPDATE rollout.flags SET value = '{"version":"hotfix_v9","epsilon":0.5}' WHERE key = 'ranker.policy'`);
    await refusedAsStale(reviewed);
    expect(await ledgerRows()).toBe(1);
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'ranker.policy'")).toEqual([{ value: { version: 'hotfix_v9', epsilon: 0.5 } }]);
  });

  it('refuses a plan when a migration file appeared since it was reviewed, and runs none', async () => {
    await writeEnvironment(db, FLAGS_V1);
    const reviewed = await planHash();
    await writeFile(join(db.root, 'migrations', '0001_t.sql'), 'CREATE TABLE t (id int);\n');
    await refusedAsStale(reviewed);
    expect(await sql(db, "SELECT to_regclass('public.t') IS NULL AS absent")).toEqual([{ absent: true }]);
  });

  it('refuses a plan when a blocker appeared since it was reviewed (an applied migration edited)', async () => {
    await writeEnvironment(db, FLAGS_V1);
    await writeFile(join(db.root, 'migrations', '0001_t.sql'), 'CREATE TABLE t (id int);\n');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await writeEnvironment(db, FLAGS_V1.replace('epsilon: 0.08', 'epsilon: 0.2'));
    const reviewed = await planHash();
    // Same pending list (none), same flags: only the blocker differs.
    await writeFile(join(db.root, 'migrations', '0001_t.sql'), 'CREATE TABLE t (id bigint);\n');
    await refusedAsStale(reviewed);
    expect(await ledgerRows()).toBe(1);
  });

  it('refuses a plan hash shorter than 12 characters before it reads anything', async () => {
    await writeEnvironment(db, FLAGS_V1);
    const reviewed = await planHash();
    for (const short of [reviewed.slice(0, 1), reviewed.slice(0, 11)]) {
      const applied = await cliOn(db, ['apply', '--env', 'test', '--plan-hash', short]);
      expect(applied.code).not.toBe(0);
      expect(applied.code).not.toBe(70);
      expect(applied.stderr).toContain(`Invalid plan hash '${short}'. Expected 12 to 64 hexadecimal characters`);
    }
    expect(await sql(db, "SELECT 1 FROM pg_namespace WHERE nspname = 'rollout'")).toEqual([]);
    expect((await cliOn(db, ['apply', '--env', 'test', '--plan-hash', reviewed.slice(0, 12)])).code).toBe(0);
  });

  it('moves the clock with ROLLOUT_NOW for plan, and refuses it for apply unless ROLLOUT_TEST_CLOCK=1', async () => {
    await writeEnvironment(db, 'flags:\n  f:\n    value: true\n    off_value: false\n    rollout: { stage: dark }\n');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await writeEnvironment(db, 'flags:\n  f:\n    value: true\n    off_value: false\n    rollout: { stage: shadow }\n');
    const future = { ROLLOUT_NOW: new Date(Date.now() + 30 * 86_400_000).toISOString() };
    expect((await cliOn(db, ['plan', '--env', 'test'])).code).toBe(1);
    const dryRun = await cliOn(db, ['plan', '--env', 'test'], future);
    expect(dryRun.code, dryRun.stdout).toBe(0);

    const moved = await cliOn(db, ['apply', '--env', 'test'], future);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain('ROLLOUT_NOW is set, and apply refuses a moved clock: it would skip every soak gate.');
    expect(await ledgerRows()).toBe(1);
    expect((await cliOn(db, ['apply', '--env', 'test'], { ...future, ROLLOUT_TEST_CLOCK: 'yes' })).code).toBe(2);
    expect((await cliOn(db, ['apply', '--env', 'test'], { ...future, ROLLOUT_TEST_CLOCK: '1' })).code).toBe(0);
    expect(await sql(db, "SELECT stage FROM rollout.flag_rollouts WHERE key = 'f'")).toEqual([{ stage: 'shadow' }]);
  });

  it('keeps the ledger append-only in the database itself', async () => {
    await writeEnvironment(db, FLAGS_V1);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await expect(sql(db, "UPDATE rollout.ledger SET actor = 'someone else'")).rejects.toThrow(/append-only/);
    await expect(sql(db, 'DELETE FROM rollout.ledger_changes')).rejects.toThrow(/append-only/);
    await expect(sql(db, 'TRUNCATE rollout.ledger CASCADE')).rejects.toThrow(/append-only/);
    expect(await sql(db, 'SELECT count(*)::int AS n FROM rollout.ledger_changes')).toEqual([{ n: 3 }]);
  });

  it('shows drift after a change outside Git, and apply restores Git', async () => {
    await writeEnvironment(db, FLAGS_V1);
    await cliOn(db, ['apply', '--env', 'test']);
    await sql(db, `UPDATE rollout.flags SET value = '{"version":"hotfix_v9","epsilon":0.5}' WHERE key = 'ranker.policy'`);
    const planned = await cliOn(db, ['plan', '--env', 'test']);
    expect(planned.stdout).toMatch(/drift: live is \{"epsilon":0.5,"version":"hotfix_v9"\}|drift: live is \{"version":"hotfix_v9","epsilon":0.5\}/);
    expect(planned.stdout).toContain('changed outside Git');
    await cliOn(db, ['apply', '--env', 'test']);
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'ranker.policy'")).toEqual([{ value: { version: 'epsilon_greedy_v1', epsilon: 0.08 } }]);
    const [entry] = await sql<{ old_value: unknown }>(db, "SELECT old_value FROM rollout.ledger_changes WHERE ledger_id = 2 AND key = 'ranker.policy'");
    expect(entry.old_value).toEqual({ version: 'hotfix_v9', epsilon: 0.5 });
  });

  it("writes to the team's own flag table, created by a migration in the same apply", async () => {
    await writeEnvironment(db, `flag_store:\n  table: public.feature_flags\n${FLAGS_V1}`);
    await writeFile(
      join(db.root, 'migrations', '0001_feature_flags.sql'),
      'CREATE TABLE public.feature_flags (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());\n',
    );
    const planned = await cliOn(db, ['plan', '--env', 'test']);
    expect(planned.stdout).toContain('1 migration to apply, 3 flags to add');
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await sql(db, 'SELECT key FROM public.feature_flags ORDER BY key')).toEqual([{ key: 'global.safe_mode' }, { key: 'marketplace.suggest' }, { key: 'ranker.policy' }]);
    expect(await sql(db, "SELECT to_regclass('rollout.flags') IS NOT NULL AS exists")).toEqual([{ exists: true }]);
    expect(await sql(db, 'SELECT count(*)::int AS n FROM rollout.flags')).toEqual([{ n: 0 }]);
    const status = await cliOn(db, ['status', '--env', 'test']);
    expect(status.stdout).toContain('3 of 3 flag(s) in sync (public.feature_flags)');
    expect(status.stdout).toMatch(/#1 .* apply by .*: applied, 3 flag change\(s\), 1 migration\(s\)/);
  });

  it('refuses a forward move that skips a stage, and always allows the rollback', async () => {
    await writeEnvironment(db, 'flags:\n  f:\n    value: true\n    off_value: false\n    rollout: { stage: dark }\n  g:\n    value: true\n');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await writeEnvironment(db, 'flags:\n  f:\n    value: true\n    off_value: false\n    rollout: { stage: canary, percent: 5 }\n  g:\n    value: true\n');
    const refused = await cliOn(db, ['apply', '--env', 'test']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/skips 1 step \(shadow\)|skips/);
    await writeEnvironment(db, 'flags:\n  f:\n    value: true\n    off_value: false\n    rollout: { stage: off }\n  g:\n    value: true\n');
    const rollback = await cliOn(db, ['apply', '--env', 'test']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await sql(db, "SELECT stage FROM rollout.flag_rollouts WHERE key = 'f'")).toEqual([{ stage: 'off' }]);
  });

  it('status says what units outside a rollout short of full are served, beside its value', async () => {
    await writeEnvironment(db, 'flags:\n  f:\n    value: true\n    off_value: false\n    rollout: { stage: canary, percent: 5 }\n  g:\n    value: true\n');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    const text = (await cliOn(db, ['status', '--env', 'test'])).stdout;
    expect(text).toMatch(/✓\s+f\s+canary 5%.*true, others false/);
    expect(text).toMatch(/✓\s+g\s+—\s+true\s*$/m);
    const json = JSON.parse((await cliOn(db, ['status', '--env', 'test', '--format', 'json'])).stdout) as { flags: { key: string; live?: unknown; liveOthers?: unknown }[] };
    expect(json.flags.map(({ key, live, liveOthers }) => ({ key, live, liveOthers }))).toEqual([
      { key: 'f', live: true, liveOthers: false },
      { key: 'g', live: true, liveOthers: undefined },
    ]);
  });
});
