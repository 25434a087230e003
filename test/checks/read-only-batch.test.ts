/**
 * Monitors' measurements in one pipelined READ ONLY transaction (checks/read-only-batch.ts):
 * each query still goes through every layer of the guard, one failing, refused or timed-out
 * query does not fail the others, what one query did to the transaction (settings, role) does
 * not reach the next, and a session-level leftover is undone and pinned on the query that left
 * it. On the embedded database and, with TEST_DATABASE_URL, a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import { checkAccess, checkConnection, CheckTimeoutError, RefusedQueryError, SideEffectError, type CheckAccess, type CheckConnection } from '../../actions/engine/checks/guard.ts';
import { runReadOnlyBatch, type BatchOutcome } from '../../actions/engine/checks/read-only-batch.ts';
import { grantChecksRole, prepareChecksRole } from '../../actions/engine/checks/checks-role.ts';

const SETUP = `
CREATE TABLE readings (n int);
INSERT INTO readings SELECT generate_series(1, 10);
CREATE FUNCTION sneaky_settings() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('statement_timeout', '0', false);
  PERFORM set_config('search_path', 'pg_temp', false);
  PERFORM set_config('work_mem', '77MB', true);
  RETURN 1;
END $$;
CREATE FUNCTION sneaky_lock() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(515151); RETURN 1; END $$;
CREATE FUNCTION slow() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN 1; END $$;
`;

describe.each(databaseTargets())('a batch of guarded queries on $name', (target) => {
  let db: TestDatabase;
  let database: Database;
  let admin: pg.Client;
  let access: CheckAccess;
  const opened: CheckConnection[] = [];

  beforeAll(async () => {
    db = await target.create();
    database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    admin = await database.connect();
    await admin.query(SETUP);
    await prepareChecksRole(admin, db.env);
    await grantChecksRole(admin, db.env);
    access = checkAccess(db.env, database);
  });
  afterAll(async () => {
    await database?.close();
    await db?.dispose();
  });

  /** The runner's connect: one pipelined connection, a new one once it is broken. */
  const connector = (): (() => Promise<CheckConnection>) => {
    let connection: CheckConnection | undefined;
    return async () => {
      if (connection?.broken) connection = undefined;
      if (!connection) opened.push((connection = await checkConnection(await access.connect({ pipeline: true }), access)));
      return connection;
    };
  };
  const run = (texts: string[], timeoutMs = 5_000, connect = connector()) => runReadOnlyBatch<Record<string, unknown>>(connect, texts.map((text) => ({ text })), timeoutMs);
  const value = (o: BatchOutcome<Record<string, unknown>>): unknown => (o.ok ? Object.values(o.rows[0] ?? {})[0] : `error: ${(o.error as Error).message}`);

  it('answers every query in order, in one transaction of one session, as the checks role', async () => {
    const outcomes = await run(['SELECT count(*)::int AS n FROM readings', 'SELECT current_user::text AS u', 'SELECT pg_backend_pid() AS pid', "SELECT current_setting('transaction_read_only') AS ro", 'SELECT now() AS t', 'SELECT pg_backend_pid() AS pid', 'SELECT now() AS t']);
    expect(outcomes.map(value).slice(0, 2)).toEqual([10, 'rollout_checks']);
    expect(value(outcomes[3])).toBe('on');
    // One session and one transaction: the same backend, the same transaction start time.
    expect(value(outcomes[2])).toBe(value(outcomes[5]));
    expect(value(outcomes[4])).toEqual(value(outcomes[6]));
  });

  it('writes a batch to the socket at once, not one write per query', async () => {
    const connect = connector();
    const { client } = await connect();
    const stream = client.connection.stream as unknown as { _write: (...a: unknown[]) => unknown; _writev?: (...a: unknown[]) => unknown };
    let writes = 0;
    const count = <F extends (...a: unknown[]) => unknown>(f: F): F => ((...a: unknown[]) => ((writes += 1), f.apply(stream, a))) as F;
    stream._write = count(stream._write);
    if (stream._writev) stream._writev = count(stream._writev);
    const outcomes = await run(Array.from({ length: 20 }, (_, i) => `SELECT ${i} AS n`), 5_000, connect);
    expect(outcomes.map(value)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // The batch (BEGIN, 20 queries, 20 ROLLBACK TO SAVEPOINT), then the final ROLLBACK and audit, then DISCARD ALL on a server.
    expect(writes).toBeLessThanOrEqual(3);
  });

  it('a failing or refused query fails alone: the queries after it still answer', async () => {
    const outcomes = await run(['SELECT 1 AS a', 'SELECT 1 / 0 AS b', 'DELETE FROM readings', 'SELECT 1 AS c; SELECT 2', 'SELECT max(n) AS d FROM readings']);
    expect(value(outcomes[0])).toBe(1);
    expect(value(outcomes[1])).toBe('error: division by zero');
    expect(outcomes[2]).toMatchObject({ ok: false, error: expect.any(RefusedQueryError) as unknown });
    expect(outcomes[3]).toMatchObject({ ok: false, error: expect.any(RefusedQueryError) as unknown });
    expect(value(outcomes[4])).toBe(10);
    expect((await admin.query('SELECT count(*)::int AS n FROM readings')).rows).toEqual([{ n: 10 }]);
  });

  it('without the parser, the protocol still refuses a second statement; the batch goes on', async () => {
    // `trusted` skips the parser: only the extended protocol stops `COMMIT; …` here.
    const connect = connector();
    const texts = ['SELECT 1 AS a; SELECT 2 AS b', 'COMMIT; INSERT INTO readings VALUES (11)', 'ROLLBACK; DELETE FROM readings', 'SELECT count(*)::int AS n FROM readings'];
    const outcomes = await runReadOnlyBatch<Record<string, unknown>>(connect, texts.map((text) => ({ text, trusted: true })), 5_000).catch((error: unknown) => [{ ok: false as const, error, durationMs: 0 }]);
    // First what matters: no second statement ran.
    expect((await admin.query('SELECT count(*)::int AS n FROM readings')).rows).toEqual([{ n: 10 }]);
    for (const outcome of outcomes.slice(0, 3)) expect(value(outcome)).toMatch(/cannot insert multiple commands into a prepared statement/);
    expect(value(outcomes[3])).toBe(10);
  });

  it('what a function did to the settings and the role does not reach the next query', async () => {
    const outcomes = await run(['SELECT sneaky_settings() AS s', "SELECT current_setting('statement_timeout') AS t", "SELECT current_setting('search_path') AS p", "SELECT current_setting('work_mem') AS w", 'SELECT current_user::text AS u']);
    expect(value(outcomes[0])).toBe(1);
    expect(value(outcomes[1])).toBe('5s');
    expect(value(outcomes[2])).toBe((await admin.query<{ p: string }>("SELECT current_setting('search_path') AS p")).rows[0].p);
    expect(value(outcomes[3])).not.toBe('77MB');
    expect(value(outcomes[4])).toBe('rollout_checks');
  });

  it('names the query that took a session lock, releases it, and answers the others', async () => {
    const connect = connector();
    const outcomes = await run(['SELECT 1 AS a', 'SELECT sneaky_lock() AS l', 'SELECT 3 AS c'], 5_000, connect);
    expect(value(outcomes[0])).toBe(1);
    expect(outcomes[1]).toMatchObject({ ok: false, error: expect.any(SideEffectError) as unknown });
    expect(String((outcomes[1] as { error: Error }).error.message)).toMatch(/advisory lock/);
    expect(value(outcomes[2])).toBe(3);
    const { client } = await connect();
    expect((await client.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 515151")).rows).toEqual([{ n: 0 }]);
  });

  it('a query past its timeout is stopped and reported; the rest of the batch still runs', async () => {
    const outcomes = await run(['SELECT 1 AS a', 'SELECT slow() AS s', 'SELECT 3 AS c', 'SELECT 4 AS d'], 300);
    expect(value(outcomes[0])).toBe(1);
    // A server stops it itself (statement_timeout); the embedded database cannot, so the deadline does.
    if (target.name === 'server') expect(outcomes[1]).toMatchObject({ ok: false, error: { code: '57014' } });
    else expect(outcomes[1]).toMatchObject({ ok: false, error: expect.any(CheckTimeoutError) as unknown });
    expect([value(outcomes[2]), value(outcomes[3])]).toEqual([3, 4]);
  });

  afterAll(async () => {
    for (const c of opened) if (!c.broken) await c.client.end().catch(() => undefined);
  });
});
