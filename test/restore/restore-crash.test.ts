/**
 * A restore killed between its intent and its outcome, on a real server: pg_restore is held
 * at its first DROP by a reader's lock, the process is killed with SIGKILL (with pg_restore, or
 * alone, so that pg_restore goes on and commits), and then the ledger's latest restore entry is
 * `started`, status, plan and health say so and how to finish (--backup or --from, as it was
 * given), and running the same restore again brings the
 * database to the backup and records the outcome.
 *
 * The embedded database has no pg_restore: its restore prepares the restored data directory
 * beside the environment's (kept rows and outcome written into it) and swaps it in by renames
 * (db/data-dir-swap.ts). The process kills itself with SIGKILL at each boundary of that
 * (failpoint.ts, honoured only under Vitest), and the next command finds the data directory
 * whole: the old data with the intent, or the restored data with the kept rows and the outcome.
 *
 * A `--into` restore killed after it made (and marked) the new database or folder: the rerun
 * drops it and converges, on both databases, and never drops a target without that mark.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { dropDatabase, restoredOrders } from '../support/restored.ts';
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
const embedded = databaseTargets().find((t) => t.name === 'embedded')!;

/** The CLI in a child process of its own (so that it can be killed, or kill itself); resolves to its exit code or signal. */
function spawnCli(db: TestDatabase, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<number | string | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--root', db.root, ...args], { env: { ...process.env, ...db.processEnv, ...extraEnv }, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

/** An environment with a backup taken before a migration that deleted 6 of its 8 orders. */
async function damaged(db: TestDatabase): Promise<string> {
  await writeEnvironment(db, ENV);
  await mkdir(join(db.root, 'migrations'), { recursive: true });
  await writeFile(join(db.root, 'migrations', '0001_orders.sql'), 'CREATE TABLE orders (id int PRIMARY KEY);\nINSERT INTO orders SELECT generate_series(1, 8);');
  expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  await writeFile(join(db.root, 'migrations', '0002_damage.sql'), 'DELETE FROM orders WHERE id > 2;');
  expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  const files = await readdir(join(db.root, 'backups'));
  expect(await orders(db)).toBe(2);
  return join(db.root, 'backups', files.sort().at(-1)!);
}

// Server only (TEST_DATABASE_URL): the embedded database has no pg_restore to kill midway.
describe.runIf(server)('a restore killed midway on the server', () => {
  let db: TestDatabase;
  let backup: string;
  beforeEach(async () => {
    db = await server!.create();
    backup = await damaged(db);
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

describe('an embedded restore killed at each step of its swap', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await embedded.create();
    await damaged(db);
  });
  afterEach(() => db.dispose());

  const dataDir = (): string => join(db.root, '.rollout/db');
  const siblings = async (): Promise<string[]> => (await readdir(join(db.root, '.rollout'))).filter((f) => f !== 'db').sort();

  it.each([
    // Before the swap: the old data, its ledger with the intent; plan and status say run it again.
    ['restore-swap:before-journal', 'before', null],
    ['restore-swap:before-aside', 'before', /stopped before its backup took the place of .*: the data directory is as it was .* Removed the restored copy/],
    // Between the renames there is no data directory: the next command finishes the move.
    ['restore-swap:between-renames', 'after', /stopped between moving .* aside and moving the restored data directory in: finished it\./],
    ['restore-swap:after-renames', 'after', /stopped after its backup took the place of .*: the restore is complete/],
  ] as const)('killed at %s: the next command finds it whole and says what it did; the same restore again converges', { timeout: 180_000 }, async (point, side, settled) => {
    expect(await spawnCli(db, ['restore', '--env', 'test', '--yes'], { ROLLOUT_TEST_FAILPOINT: point })).toBe('SIGKILL');
    if (point === 'restore-swap:between-renames') expect(existsSync(dataDir())).toBe(false);

    const status = await cliOn(db, ['status', '--env', 'test']);
    expect(status.code, status.stderr).toBe(0);
    if (settled) expect(status.stderr).toMatch(settled);
    else expect(status.stderr).not.toContain('stopped');
    // Settled once: the journal is gone. Killed before it wrote one, the restore leaves its restored copy and
    // its swap lock (a dead pid's, taken over by the next restore, which replaces the copy).
    expect((await cliOn(db, ['status', '--env', 'test'])).stderr).not.toContain('stopped');
    expect((await siblings()).filter((f) => !f.startsWith('db.before-restore-'))).toEqual(point === 'restore-swap:before-journal' ? ['db.restore-swap.lock', 'db.restoring'] : []);

    if (side === 'before') {
      expect(await orders(db)).toBe(2);
      expect(await restores(db)).toEqual(['started']);
      expect(status.stdout).toMatch(/restore #3 of backups\/test-\S+ \(sha256 [0-9a-f]{12}…\), started \S+ by \S+, has recorded no outcome/);
      const plan = await cliOn(db, ['plan', '--env', 'test']);
      expect(plan.stdout + plan.stderr).toContain('has recorded no outcome');
      expect((await siblings()).some((f) => f.startsWith('db.before-restore-'))).toBe(false);
    } else {
      // The restored data, with the kept rows: the intent (#3) and the outcome naming it, after the backup's two applies.
      expect(await orders(db)).toBe(8);
      expect(await restores(db)).toEqual(['started', 'restored']);
      expect((await sql<{ started: string }>(db, "SELECT summary->>'started' AS started FROM rollout.ledger WHERE outcome = 'restored'"))[0].started).toBe('#3');
      expect(status.stdout).not.toContain('recorded no outcome');
      const aside = (await siblings()).filter((f) => f.startsWith('db.before-restore-'));
      expect(aside).toHaveLength(1);
      // The data directory as it was is kept aside, without a lock file that would look held.
      expect(existsSync(join(db.root, '.rollout', aside[0], 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(db.root, '.rollout', aside[0], '.rollout.lock'))).toBe(false);
    }
    expect((await cliOn(db, ['audit', '--env', 'test'])).code).toBe(0);

    const again = await cliOn(db, ['restore', '--env', 'test', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await orders(db)).toBe(8);
    expect(await restores(db)).toEqual(side === 'before' ? ['started', 'started', 'restored'] : ['started', 'restored', 'started', 'restored']);
    expect((await cliOn(db, ['status', '--env', 'test'])).stdout).not.toContain('recorded no outcome');
    expect((await cliOn(db, ['audit', '--env', 'test'])).code).toBe(0);
    expect((await siblings()).filter((f) => !f.startsWith('db.before-restore-'))).toEqual([]);
  });

  it('ignores the failpoint outside the test runner', { timeout: 120_000 }, async () => {
    expect(await spawnCli(db, ['restore', '--env', 'test', '--yes'], { ROLLOUT_TEST_FAILPOINT: 'restore-swap:between-renames', VITEST: '' })).toBe(0);
    expect(await orders(db)).toBe(8);
  });
});

describe.each(databaseTargets())('a --into restore killed after it made its target, on $name', (target) => {
  let db: TestDatabase;
  let name: string;
  beforeEach(async () => {
    db = await target.create();
    await damaged(db);
    name = target.name === 'server' ? `rollout_into_${randomBytes(4).toString('hex')}` : join(db.root, 'restored');
  });
  afterEach(async () => {
    if (target.name === 'server') await dropDatabase(db, name);
    await db.dispose();
  });

  /** The mark on the target: the database's comment, or the folder's marker file; `text` replaces it (null: removes it, leaving the target not empty). */
  async function mark(text?: string | null): Promise<string | null> {
    if (target.name === 'server') {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        if (text !== undefined) await admin.query(`COMMENT ON DATABASE ${name} IS ${text === null ? 'NULL' : admin.escapeLiteral(text)}`);
        return (await admin.query<{ mark: string | null }>("SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database WHERE datname = $1", [name])).rows[0]?.mark ?? null;
      } finally {
        await admin.end();
      }
    }
    const file = join(name, '.rollout-restore');
    // Unmarked and not empty (an empty folder is taken as new): someone else's files.
    if (text === null) await rm(file).then(() => writeFile(join(name, 'notes.txt'), 'not a restore'));
    else if (text !== undefined) await writeFile(file, text);
    return existsSync(file) ? readFile(file, 'utf8') : null;
  }

  it('the rerun refuses a target it cannot prove it made, and drops the one it did and converges', { timeout: 240_000 }, async () => {
    expect(await spawnCli(db, ['restore', '--env', 'test', '--into', name, '--yes'], { ROLLOUT_TEST_FAILPOINT: 'restore-into:marked' })).toBe('SIGKILL');
    expect(await restores(db)).toEqual(['started']);
    const made = await mark();
    expect(made).toMatch(/^rollout restore #3 of environment test \(sha256 [0-9a-f]{64}\)$/);
    const status = await cliOn(db, ['status', '--env', 'test']);
    expect(status.stdout).toMatch(/restore #3 of backups\/test-\S+ \(sha256 [0-9a-f]{12}…\) into \S+, started .* has recorded no outcome/);
    expect(status.stdout).toContain(`run rollout restore --env test --backup backups/test-`);
    expect(status.stdout).toContain(`--into ${name} --yes again: it drops ${name}, which that restore marked as its own`);

    // Marked by another restore, or not at all: refused, left as it is, and nothing recorded (the unfinished restore stays the latest).
    for (const other of [made!.replace('#3 ', '#99 '), null]) {
      await mark(other);
      const refused = await cliOn(db, ['restore', '--env', 'test', '--into', name, '--yes']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(target.name === 'server' ? /a database of that name already exists/ : /is not empty/);
      if (other) expect(refused.stderr).toContain(`It is marked "${other}", not as the unfinished restore's`);
      expect(await mark()).toBe(other);
      expect(await restores(db)).toEqual(['started']);
    }

    await mark(made);
    const again = await cliOn(db, ['restore', '--env', 'test', '--into', name, '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(target.name === 'server' ? /dropped database \S+, left half-made by rollout restore #3 of environment test/ : /deleted the folder \S+restored, left half-made by rollout restore #3 of environment test/);
    expect(await restoredOrders(target.name, db, name)).toBe(8);
    expect(await orders(db)).toBe(2);
    expect(await restores(db)).toEqual(['started', 'started', 'restored into a new database']);
    // Marked as the rerun's own now; and once it recorded its outcome, even that mark is no licence to drop it.
    // (Not #4: a sequence WAL-logs its values ahead in batches, and a crash skips what it had logged.)
    const [rerun] = await sql<{ id: number }>(db, "SELECT id::int AS id FROM rollout.ledger WHERE outcome = 'started' ORDER BY id DESC LIMIT 1");
    expect(rerun.id).toBeGreaterThan(3);
    expect(await mark()).toBe(made!.replace('#3 ', `#${rerun.id} `));
    expect((await cliOn(db, ['status', '--env', 'test'])).stdout).not.toContain('recorded no outcome');
    expect((await cliOn(db, ['restore', '--env', 'test', '--into', name, '--yes'])).code).toBe(1);
    expect(await restoredOrders(target.name, db, name)).toBe(8);
    expect((await cliOn(db, ['audit', '--env', 'test'])).code).toBe(0);
  });
});
