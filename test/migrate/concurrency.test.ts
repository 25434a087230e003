import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { query, withClient, writeMigrations } from './support/migrations.ts';
import { startRunner } from './support/processes.ts';

describe.each(databaseTargets())('concurrent and interrupted applies on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create({ migrations: { advisoryLock: { mode: 'wait', timeoutMs: 120_000 } } });
  });
  afterEach(() => db.dispose());

  it('10 processes applying at once apply every migration exactly once', { timeout: 180_000 }, async () => {
    await writeMigrations(db.root, {
      '1_log.sql': 'CREATE TABLE run_log (version int NOT NULL, at timestamptz DEFAULT clock_timestamp());\nINSERT INTO run_log (version) VALUES (1);',
      // Keeps the first process busy while the others pile up on the lock.
      '2_slow.sql': 'SELECT pg_sleep(1);\nINSERT INTO run_log (version) VALUES (2);',
      '3_index.sql': 'CREATE INDEX CONCURRENTLY run_log_version ON run_log (version);\nINSERT INTO run_log (version) VALUES (3);',
      '4_script.sql': 'BEGIN;\nINSERT INTO run_log (version) VALUES (4);\nCOMMIT;',
      '5_last.sql': 'INSERT INTO run_log (version) VALUES (5);',
    });
    const runners = Array.from({ length: 10 }, () => startRunner(db));
    const codes = await Promise.all(runners.map((r) => r.exited));
    expect(codes, runners.map((r) => r.stderr.join('')).join('\n')).toEqual(Array(10).fill(0));
    const applied = runners.flatMap((r) => (r.lines.find((l) => l.result) as { applied: string[] }).applied);
    expect(applied.sort()).toEqual(['index', 'last', 'log', 'script', 'slow']);
    const log = await query<{ version: number; n: string }>(db, 'SELECT version, count(*)::text AS n FROM run_log GROUP BY version ORDER BY version');
    expect(log).toEqual([1, 2, 3, 4, 5].map((version) => ({ version, n: '1' })));
    expect(await query(db, "SELECT 1 FROM rollout.schema_migrations WHERE status = 'applied'")).toHaveLength(5);
  });

  it('a process in "fail" lock mode fails fast, naming the holder, without a stack trace', { timeout: 60_000 }, async () => {
    await writeMigrations(db.root, { '1_a.sql': 'CREATE TABLE a (id int);' });
    db.env.migrations.advisoryLock = { mode: 'fail', timeoutMs: 0 };
    await withClient(db, async () => {
      const runner = startRunner(db);
      expect(await runner.exited).toBe(1);
      const result = runner.lines.find((l) => l.result) as { name: string; message: string };
      expect(result.name).toBe('LockTimeoutError');
      expect(result.message).toMatch(db.env.database.kind === 'embedded' ? `in use by process ${process.pid}` : /locked by pid \d+ \("rollout test"/);
      expect(runner.stderr.join('')).toBe('');
    });
  });

  it('a process killed in the middle of a migration leaves no half-applied migration; the next apply completes', { timeout: 120_000 }, async () => {
    await writeMigrations(db.root, {
      '1_control.sql': 'CREATE TABLE crash_control (seconds int); INSERT INTO crash_control VALUES (30);',
      '2_slow.sql': 'CREATE TABLE half (id int);\nSELECT pg_sleep((SELECT seconds FROM crash_control));\nINSERT INTO half VALUES (1);',
    });
    const runner = startRunner(db);
    await runner.waitFor((line) => line.event === 'start' && line.file === 'slow');
    await new Promise((resolve) => setTimeout(resolve, 500));
    runner.child.kill('SIGKILL');
    expect(await runner.exited).toBe('SIGKILL');

    const afterCrash = await query<{ version: string }>(db, 'SELECT version::text FROM rollout.schema_migrations');
    expect(afterCrash.map((r) => r.version)).toEqual(['1']);
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename = 'half'")).toHaveLength(0);

    await query(db, 'UPDATE crash_control SET seconds = 0');
    const next = startRunner(db);
    expect(await next.exited, next.stderr.join('')).toBe(0);
    expect(next.lines.find((l) => l.result)).toMatchObject({ result: 'ok', applied: ['slow'] });
    expect(await query(db, 'SELECT id FROM half')).toEqual([{ id: 1 }]);
  });
});
