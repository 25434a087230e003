/**
 * rollout restore on both databases: apply takes a backup before a migration that damages
 * data; restore shows its plan, then (--yes) brings the data and flags back, keeps the ledger
 * and measurements, writes one ledger entry of kind restore, and plan shows what Git must do.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { TEST_URL_VARIABLE, databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';
import { dropDatabase, restoredOrders } from '../support/restored.ts';
import { environmentLockKey } from '../../actions/engine/db/index.ts';
import { lockDataDir } from '../../actions/engine/db/data-dir-lock.ts';

const env = (epsilon: number): string => `migrations:
  backup:
    directory: backups
flags:
  ranker.policy:
    value: { epsilon: ${epsilon} }
`;

const SEED = `CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);
INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 8) g;`;
const DAMAGE = 'DELETE FROM orders WHERE id > 2;\nCREATE TABLE damage_notes (id int);';

async function migration(db: TestDatabase, file: string, text: string): Promise<void> {
  await mkdir(join(db.root, 'migrations'), { recursive: true });
  await writeFile(join(db.root, 'migrations', file), text);
}

const orders = async (db: TestDatabase): Promise<number> => (await sql<{ n: number }>(db, 'SELECT count(*)::int AS n FROM orders'))[0].n;

describe.each(databaseTargets())('rollout restore on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, env(0.1));
    await migration(db, '0001_orders.sql', SEED);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    // The damaging change: a migration that deletes rows, and a flag change, applied together.
    await writeEnvironment(db, env(0.3));
    await migration(db, '0002_damage.sql', DAMAGE);
    const damaging = await cliOn(db, ['apply', '--env', 'test']);
    expect(damaging.code, damaging.stderr).toBe(0);
    expect(damaging.stdout).toMatch(/backup: .*backups\/test-\d{8}T\d{6}Z\.(dump|tar\.gz)/);
    expect(await orders(db)).toBe(2);
  });
  afterEach(() => db.dispose());

  it('plans first, then restores data and flags, keeps ledger and measurements, records it, and plan shows what Git must do', { timeout: 120_000 }, async () => {
    // Evidence written after the backup: it must survive the restore.
    await sql(db, "INSERT INTO rollout.measurements (environment, monitor, value, verdict, detail) VALUES ('test', 'orders', 2, 'breach', 'orders 2 < 8')");

    const preview = await cliOn(db, ['restore', '--env', 'test']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain('restore plan for test:');
    expect(preview.stdout).toMatch(/backup {4}backups\/test-\d{8}T\d{6}Z\.(dump|tar\.gz) \(taken \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, .*; the newest of \d backup\(s\) of "test"/);
    expect(preview.stdout).toContain('keeps     rollout.ledger, rollout.ledger_changes, rollout.measurements');
    expect(preview.stdout).toMatch(/rewinds[^\n]*\n(\s+\S+ \(applied [^\n]*\n)*\s+migrations\/0002_damage\.sql \(applied /);
    const command = /Nothing was changed\. To restore: rollout (restore --env test --backup \S+backups\/test-\S+ --yes)$/m.exec(preview.stdout);
    expect(command, preview.stdout).not.toBeNull();
    expect(await orders(db)).toBe(2); // the plan changed nothing

    // Services holding definitions are told to re-read them (server: LISTEN on a connection of their own).
    const listener = db.url ? new pg.Client({ connectionString: db.url }) : undefined;
    const notices: string[] = [];
    if (listener) {
      await listener.connect();
      listener.on('notification', (n) => notices.push(`${n.channel} ${n.payload ?? ''}`));
      await listener.query('LISTEN rollout_flags');
    }
    // The command the plan printed, as printed (run from this process's directory).
    const run = await cliOn(db, [...command![1].split(' '), '--reason', '0002 deleted orders']).finally(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await listener?.end();
    });
    if (listener) expect(notices).toEqual(['rollout_flags {"ledger_id":4}']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/test: restored backups\/test-\S+ into .*\. Ledger entry #4 \(kind restore\)\./);
    expect(run.stdout).toContain('flag ranker.policy: {"epsilon":0.3} → {"epsilon":0.1}');
    expect(run.stdout).toContain('migrations no longer recorded as applied: migrations/0002_damage.sql. The next apply runs them again');

    expect(await orders(db)).toBe(8);
    // A server restore drops and recreates only what the backup holds; the embedded one replaces the whole directory.
    expect(await sql(db, "SELECT to_regclass('public.damage_notes') IS NOT NULL AS kept")).toEqual([{ kept: target.name === 'server' }]);
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'ranker.policy'")).toEqual([{ value: { epsilon: 0.1 } }]);
    expect(await sql(db, "SELECT id FROM rollout.schema_migrations WHERE status = 'applied' ORDER BY id")).toEqual([{ id: '1' }]);
    // The ledger was not rewound to the backup's day: both applies are still there, then the
    // restore's intent (committed before anything was replaced, with the file's hash) and its outcome.
    const ledger = await sql<{ id: string; kind: string; outcome: string; reason: string | null; backup: string; sha256: string | null; started: string | null }>(
      db, "SELECT id::text, kind, outcome, reason, summary->>'backup' AS backup, summary->>'sha256' AS sha256, summary->>'started' AS started FROM rollout.ledger ORDER BY id",
    );
    expect(ledger.map((l) => [l.id, l.kind, l.outcome])).toEqual([['1', 'apply', 'applied'], ['2', 'apply', 'applied'], ['3', 'restore', 'started'], ['4', 'restore', 'restored']]);
    expect(ledger[3].reason).toBe('0002 deleted orders');
    expect(ledger[3].backup).toMatch(/^backups\/test-\d{8}T\d{6}Z\./);
    expect(ledger[2].sha256).toBe(createHash('sha256').update(await readFile(join(db.root, ledger[2].backup))).digest('hex'));
    expect(ledger[3].started).toBe('#3');
    expect(ledger[3].sha256).toBe(ledger[2].sha256);
    const changes = await sql(db, 'SELECT subject, key, action, old_value, new_value FROM rollout.ledger_changes WHERE ledger_id = 4 ORDER BY ordinal');
    expect(changes).toEqual([
      { subject: 'migration', key: 'migrations/0002_damage.sql', action: 'unrecorded', old_value: null, new_value: null },
      { subject: 'flag', key: 'ranker.policy', action: 'restore', old_value: { epsilon: 0.3 }, new_value: { epsilon: 0.1 } },
    ]);
    expect(await sql(db, 'SELECT monitor, verdict FROM rollout.measurements')).toEqual([{ monitor: 'orders', verdict: 'breach' }]);
    const audit = await cliOn(db, ['audit', '--env', 'test']);
    expect(audit.code, audit.stdout).toBe(0);
    // A finished restore leaves nothing to report.
    expect((await cliOn(db, ['status', '--env', 'test'])).stdout).not.toContain('recorded no outcome');
    // The identity sequence is past every kept entry: the next one is #5.
    expect(await sql(db, "INSERT INTO rollout.ledger (environment, kind, actor, outcome) VALUES ('test', 'apply', 'x', 'y') RETURNING id::text")).toEqual([{ id: '5' }]);

    // What Git must do: as it stands, the next apply would run 0002 again and set epsilon 0.3 again.
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout).toContain('0002_damage.sql');
    expect(plan.stdout).toContain('ranker.policy');
    if (target.name === 'embedded') {
      expect(run.stdout).toMatch(/the data directory as it was before is in \S+\.before-restore-\d{8}T\d{6}Z/);
      expect((await readdir(join(db.root, '.rollout'))).some((e) => e.startsWith('db.before-restore-'))).toBe(true);
    }
  });

  it('is refused at once, never queued, while another apply holds the lock', async () => {
    if (target.name === 'server') {
      const holder = new pg.Client({ connectionString: db.url, application_name: 'rollout apply test' });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1::bigint)', [environmentLockKey('test').toString()]);
        const run = await cliOn(db, ['restore', '--env', 'test', '--yes']);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('Environment "test" is locked by pid');
        expect(run.stderr).toContain('"rollout apply test"');
      } finally {
        await holder.end();
      }
    } else {
      const release = await lockDataDir(join(db.root, '.rollout/db'), { mode: 'fail', timeoutMs: 0 });
      try {
        const run = await cliOn(db, ['restore', '--env', 'test', '--yes']);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('is in use by process');
      } finally {
        await release();
      }
    }
    expect(await orders(db)).toBe(2);
    expect(await sql(db, "SELECT count(*)::int AS n FROM rollout.ledger WHERE kind = 'restore'")).toEqual([{ n: 0 }]);
  });

  it('restores into a new database (or folder), leaving the environment\'s as it is', async () => {
    const name = target.name === 'server' ? `rollout_restored_${randomBytes(4).toString('hex')}` : join(db.root, 'restored');
    try {
      // A password in the URL (the test server ignores it) must show nowhere, not even in the new database's URL.
      const withPassword = db.url ? { [TEST_URL_VARIABLE]: Object.assign(new URL(db.url), { password: 'h17-s3cret' }).toString() } : {};
      const run = await cliOn(db, ['restore', '--env', 'test', '--into', name, '--yes'], withPassword);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/restored backups\/\S+ into .*; .* is unchanged\. Ledger entry #4 \(kind restore\)/);
      expect(run.stdout + run.stderr).not.toContain('h17-s3cret');
      if (db.url) expect(run.stdout).toContain(':***@');
      expect(await orders(db)).toBe(2);
      const recorded = await sql<{ outcome: string; into: string; option: string | null; sha256: string | null }>(
        db, "SELECT outcome, summary->>'into' AS into, summary->>'option' AS option, summary->>'sha256' AS sha256 FROM rollout.ledger WHERE kind = 'restore' ORDER BY id",
      );
      expect(recorded.map((r) => r.outcome)).toEqual(['started', 'restored into a new database']);
      // The intent names the --into as given (what a rerun needs); the outcome where the backup now is.
      expect(recorded[0]).toMatchObject({ into: name, option: '--backup' });
      expect(recorded[0].sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(recorded[1].sha256).toBe(recorded[0].sha256);
      expect(recorded[1].into).toContain(target.name === 'server' ? `/${name}` : 'restored');
      expect(await restoredOrders(target.name, db, name)).toBe(8);
      const again = await cliOn(db, ['restore', '--env', 'test', '--into', name, '--yes']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(target.name === 'server' ? /a database of that name already exists/ : /is not empty/);
    } finally {
      if (target.name === 'server') await dropDatabase(db, name);
    }
  });

  it('names the file and the fix for every mistake, before it connects', async () => {
    const missing = await cliOn(db, ['restore', '--env', 'test', '--backup', join(db.root, 'backups/nope.dump')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    const other = target.name === 'server' ? 'x.tar.gz' : 'x.dump';
    await writeFile(join(db.root, other), 'not a backup');
    const wrongKind = await cliOn(db, ['restore', '--env', 'test', '--backup', join(db.root, other)]);
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toMatch(/has (a server|an embedded) database, which restores from/);

    await writeEnvironment(db, 'flags:\n  ranker.policy:\n    value: { epsilon: 0.3 }\n');
    const unset = await cliOn(db, ['restore', '--env', 'test']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/^error: environments\/test\.yaml:1:1: environment "test" sets no migrations\.backup/);
    expect(unset.stderr).not.toContain('    at ');

    await writeEnvironment(db, env(0.3).replace('directory: backups', 'directory: elsewhere'));
    const empty = await cliOn(db, ['restore', '--env', 'test']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/environments\/test\.yaml:\d+:\d+: no backup of "test" in elsewhere/);
    expect(existsSync(join(db.root, 'elsewhere'))).toBe(false);
  });

  it('records a restore that failed, and changes nothing', async () => {
    const broken = target.name === 'server' ? 'test-20260101T000000Z.dump' : 'test-20260101T000000Z.tar.gz';
    await writeFile(join(db.root, 'backups', broken), 'not a backup at all');
    const run = await cliOn(db, ['restore', '--env', 'test', '--backup', join(db.root, 'backups', broken), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).not.toContain('internal error');
    expect(await orders(db)).toBe(2);
    expect(await sql(db, "SELECT outcome FROM rollout.ledger WHERE kind = 'restore' ORDER BY id")).toEqual([{ outcome: 'started' }, { outcome: 'failed' }]);
  });
});
