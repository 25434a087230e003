/**
 * The incident drill of issue 13, end to end on a real server: production's apply runs a long
 * migration; a monitor breaches; its kill switch is set while the migration still runs (its
 * ledger entry commits first: it waited for no lock of the migration); the apply holds it; plan
 * shows the hold and how to reconcile; the reconcile lands in Git and apply hands the flag back
 * to Git; later Git turns the switch off again. Every step's message is checked for truth.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const production = (safeMode: boolean): string => `flags:
  shop.safe_mode:
    value: { enabled: ${safeMode} }
    kill_switch: true
  shop.banner:
    value: hello
monitors:
  - name: checkout burn rate
    sql: SELECT coalesce((SELECT rate FROM burn LIMIT 1), 0)
    above: 2
    severity: critical
    on_breach: { kill_switch: shop.safe_mode }
`;

const server = databaseTargets().find((t) => t.name === 'server');
const SLEEP = "pg_sleep(8)";
const migrationRunning = async (db: TestDatabase): Promise<boolean> =>
  (await sql(db, `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%${SLEEP}%' AND state = 'active' AND pid <> pg_backend_pid()`)).length > 0;

describe.skipIf(!server)('incident drill on the server', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await server!.create();
    await writeEnvironment(db, production(false));
    await writeFile(join(db.root, 'migrations', '20261201000000_burn.sql'), 'CREATE TABLE burn (rate numeric);\n');
    const first = await cliOn(db, ['apply', '--env', 'test']);
    expect(first.code, first.stderr).toBe(0);
  });
  afterEach(() => db.dispose());

  it('kill during a long migration, hold, reconcile, and Git turns the switch off again', { timeout: 120_000 }, async () => {
    // Healthy first: the monitor measures 0.
    expect((await cliOn(db, ['health', '--env', 'test'])).code).toBe(0);

    // 1. A long migration runs in production's apply.
    await writeFile(join(db.root, 'migrations', '20261202000000_long.sql'), `CREATE TABLE orders_archive (id int);\nSELECT ${SLEEP};\n`);
    const apply = cliOn(db, ['apply', '--env', 'test']);
    const deadline = Date.now() + 30_000;
    while (!(await migrationRunning(db))) {
      if (Date.now() > deadline) throw new Error('the migration did not start');
      await new Promise((r) => setTimeout(r, 50));
    }

    // 2. The monitor breaches; health trips the kill switch while the migration still runs.
    await sql(db, 'INSERT INTO burn (rate) VALUES (3.1)');
    const health = await cliOn(db, ['health', '--env', 'test']);
    expect(health.code, health.stderr).toBe(1);
    expect(health.stdout).toContain('checkout burn rate');
    expect(await migrationRunning(db)).toBe(true);
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'shop.safe_mode'")).toEqual([{ value: { enabled: true } }]);

    // 3. The apply finishes; its flag step saw the kill and held it. The kill's ledger entry committed first.
    const applied = await apply;
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('migrated migrations/20261202000000_long.sql');
    expect(applied.stdout).toContain('kept shop.safe_mode = {"enabled":true}: held by break-glass');
    const ledger = await sql<{ kind: string; reason: string | null }>(db, 'SELECT kind, reason FROM rollout.ledger ORDER BY id');
    expect(ledger.map((r) => r.kind)).toEqual(['apply', 'break-glass', 'apply']);
    expect(ledger[1].reason).toMatch(/checkout burn rate/);
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'shop.safe_mode'")).toEqual([{ value: { enabled: true } }]);

    // 4. Plan shows the hold, what Git says, and how to reconcile; a no-op apply does not claim "matches Git".
    const held = await cliOn(db, ['plan', '--env', 'test']);
    expect(held.stdout).toContain('hold (break-glass)');
    expect(held.stdout).toContain('Reconcile: put the live value in environments/test.yaml');
    const noop = await cliOn(db, ['apply', '--env', 'test']);
    expect(noop.stdout).toContain('nothing to apply; live state matches Git except 1 flag(s) held by break-glass');

    // 5. The reconcile PR merges: Git says {enabled: true}; apply records it and Git owns the flag again.
    await writeEnvironment(db, production(true));
    const reconcile = await cliOn(db, ['apply', '--env', 'test']);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toContain('reconcile shop.safe_mode');
    expect(await sql(db, "SELECT recorded_kind FROM rollout.flag_rollouts WHERE key = 'shop.safe_mode'")).toEqual([{ recorded_kind: 'apply' }]);

    // 6. The incident is over: the burn rate is back down, and Git turns the switch off.
    await sql(db, 'DELETE FROM burn');
    await writeEnvironment(db, production(false));
    const off = await cliOn(db, ['apply', '--env', 'test']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain('change shop.safe_mode');
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'shop.safe_mode'")).toEqual([{ value: { enabled: false } }]);
    const after = await cliOn(db, ['plan', '--env', 'test']);
    expect(after.stdout).toContain('No changes: live state matches Git.');
    expect((await cliOn(db, ['health', '--env', 'test'])).code).toBe(0);
  });
});
