/**
 * A restore killed between its intent and its outcome, on a real server: pg_restore is held
 * at its first DROP by a reader's lock, the process is killed with SIGKILL (with pg_restore, or
 * alone, so that pg_restore goes on and commits), and then the ledger's latest restore entry is
 * `started`, status, plan and health say so and how to finish (--backup or --from, as it was
 * given), and running the same restore again brings the
 * database to the backup and records the outcome. The embedded database has no pg_restore:
 * what a crash leaves there is documented (docs/migrations.md) and not staged here.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const CLI = fileURLToPath(new URL('../../actions/cli/index.ts', import.meta.url));
const ENV = 'migrations:\n  backup:\n    directory: backups\n';
const orders = async (db: TestDatabase): Promise<number> => (await sql<{ n: number }>(db, 'SELECT count(*)::int AS n FROM orders'))[0].n;
const restores = async (db: TestDatabase): Promise<string[]> =>
  (await sql<{ outcome: string }>(db, "SELECT outcome FROM rollout.ledger WHERE kind = 'restore' ORDER BY id")).map((r) => r.outcome);

async function until(what: string, ready: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const server = databaseTargets().find((t) => t.name === 'server');

// Server only (TEST_DATABASE_URL): the embedded database has no pg_restore to kill midway.
describe.runIf(server)('a restore killed midway on the server', () => {
  let db: TestDatabase;
  let backup: string;
  beforeEach(async () => {
    db = await server!.create();
    await writeEnvironment(db, ENV);
    await mkdir(join(db.root, 'migrations'), { recursive: true });
    await writeFile(join(db.root, 'migrations', '0001_orders.sql'), 'CREATE TABLE orders (id int PRIMARY KEY);\nINSERT INTO orders SELECT generate_series(1, 8);');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await writeFile(join(db.root, 'migrations', '0002_damage.sql'), 'DELETE FROM orders WHERE id > 2;');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    const files = await readdir(join(db.root, 'backups'));
    backup = join(db.root, 'backups', files.sort().at(-1)!);
    expect(await orders(db)).toBe(2);
  });
  afterEach(() => db.dispose());

  it.each([
    ['with pg_restore (its transaction never commits)', 'group', 2, '--backup'],
    ['alone (pg_restore goes on and commits)', 'alone', 8, '--backup'],
    ['alone, restoring a dump made elsewhere (--from)', 'alone', 8, '--from'],
  ] as const)('killed %s: status says so, and the same restore again converges', { timeout: 120_000 }, async (_what, kill, left, option) => {
    // --from: the same pg_dump archive under a name apply never gives, outside the backup folder.
    const file = option === '--from' ? join(db.root, 'ci', 'orders.pgdump') : backup;
    const shown = option === '--from' ? 'ci/orders.pgdump' : 'backups/test-';
    if (option === '--from') {
      await mkdir(join(db.root, 'ci'), { recursive: true });
      await copyFile(backup, file);
    }
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      // A reader holding orders: pg_restore --clean waits at DROP TABLE orders, inside its transaction.
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM orders');
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--root', db.root, 'restore', '--env', 'test', option, file, '--yes'], {
        env: { ...process.env, ...db.processEnv },
        stdio: 'ignore',
        detached: true,
      });
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      await until('pg_restore to wait for the lock', async () => {
        const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg_restore' AND wait_event_type = 'Lock'");
        return rows[0].n > 0;
      });
      expect(await restores(db)).toEqual(['started']);
      if (kill === 'group') process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      await reader.query('ROLLBACK');
      await until('pg_restore to finish or be rolled back', async () => {
        const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg_restore'");
        return rows[0].n === 0;
      });
    } finally {
      await reader.end();
      await admin.end();
    }
    // All of the backup or none of it, and the ledger says a restore began and never said how it ended.
    expect(await orders(db)).toBe(left);
    expect(await restores(db)).toEqual(['started']);
    const status = await cliOn(db, ['status', '--env', 'test']);
    expect(status.stdout).toMatch(/restore #3 of (backups\/test-|ci\/orders\.pgdump)\S* \(sha256 [0-9a-f]{12}…\), started \S+ by \S+, has recorded no outcome/);
    expect(status.stdout).toContain(`run rollout restore --env test ${option} ${shown}`);
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout + plan.stderr).toContain('has recorded no outcome');
    const health = await cliOn(db, ['health', '--env', 'test', '--no-act']);
    expect(health.stderr).toMatch(/^warning: restore #3 of .* has recorded no outcome/m);

    const again = await cliOn(db, ['restore', '--env', 'test', option, file, '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await orders(db)).toBe(8);
    expect(await restores(db)).toEqual(['started', 'started', 'restored']);
    expect((await cliOn(db, ['status', '--env', 'test'])).stdout).not.toContain('recorded no outcome');
    expect((await cliOn(db, ['audit', '--env', 'test'])).code).toBe(0);
  });
});
