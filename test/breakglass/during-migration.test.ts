/**
 * A kill switch waits for no migration (issue 13, defect 3): an apply holds the environment
 * lock through its migrations, break-glass takes only the flag-write lock. Real server only:
 * the embedded database runs one statement at a time for every connection of its process.
 * Also: a kill that commits between an apply's plan and its flag step, with no migration in
 * between, is seen by the apply's flag step (it re-plans when the ledger moved).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';
import pg from 'pg';
import { breakGlass } from '../../actions/engine/breakglass/break-glass.ts';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { flagWriteLockKey } from '../../actions/engine/db/advisory-lock.ts';

const ENV = `flags:
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
`;

const server = databaseTargets().find((t) => t.name === 'server');

describe.skipIf(!server)('rollout kill while an apply runs (server)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await server!.create();
    await writeEnvironment(db, ENV);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  it('sets the switch and commits its ledger entry before the migration ends; the apply then holds it', { timeout: 60_000 }, async () => {
    await writeFile(join(db.root, 'migrations', '20261202000000_slow.sql'), 'CREATE TABLE slow_done (id int);\nSELECT pg_sleep(6);\n');
    const apply = cliOn(db, ['apply', '--env', 'test']);
    await waitFor(async () => (await sql(db, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND state = 'active' AND pid <> pg_backend_pid()")).length > 0);

    const started = Date.now();
    const kill = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'burn rate 3.1']);
    const took = Date.now() - started;
    expect(kill.code, kill.stderr).toBe(0);
    // The migration is still running: the kill did not wait for it.
    expect(await sql(db, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND state = 'active' AND pid <> pg_backend_pid()")).toHaveLength(1);
    expect(took).toBeLessThan(5_000);
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);

    const applied = await apply;
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('migrated migrations/20261202000000_slow.sql');
    expect(applied.stdout).toContain('kept global.safe_mode = {"enabled":true}: held by break-glass');
    const ledger = await sql<{ id: string; kind: string }>(db, 'SELECT id::text, kind FROM rollout.ledger ORDER BY id');
    expect(ledger.map((r) => r.kind)).toEqual(['apply', 'break-glass', 'apply']);
    // The apply's flag step read live state after the kill: the switch stays on.
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);
  });

  it('a kill committed after the apply read its plan, with no migration to run, is held by the apply', { timeout: 60_000 }, async () => {
    // The apply has work of its own: a new flag beside the switch.
    await writeEnvironment(db, `${ENV}  checkout.new_flow:\n    value: { enabled: true }\n`);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      // Holding the flag-write lock keeps the apply between its plan and its flag step.
      const key = flagWriteLockKey('test').toString();
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      const apply = cliOn(db, ['apply', '--env', 'test']);
      // The apply polls for the lock inside its flag transaction: its plan is read by then.
      await waitFor(async () => (await holder.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_try_advisory_xact_lock%' AND state = 'idle in transaction' AND pid <> pg_backend_pid()")).rows.length > 0);
      // The same session may take its own lock again: the kill commits while the apply waits.
      const { environment } = loadEnvironment(db.root, 'test');
      const killed = await breakGlass(holder, environment, { flag: 'global.safe_mode', reason: 'burn rate 3.1', actor: 'oncall', trigger: 'cli', root: db.root });
      expect(killed.ledgerId).not.toBeNull();
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [key]);

      const applied = await apply;
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('add checkout.new_flow');
      expect(applied.stdout).toContain('kept global.safe_mode = {"enabled":true}: held by break-glass');
      const ledger = await sql<{ kind: string }>(db, 'SELECT kind FROM rollout.ledger ORDER BY id');
      expect(ledger.map((r) => r.kind)).toEqual(['apply', 'break-glass', 'apply']);
      expect(await sql(db, "SELECT key, value FROM rollout.flags ORDER BY key")).toEqual([
        { key: 'checkout.new_flow', value: { enabled: true } },
        { key: 'global.safe_mode', value: { enabled: true } },
      ]);
    } finally {
      await holder.end();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the apply to get there');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
