/**
 * What runReadOnly does with the session it runs on, beyond refusing writes (read-only.test.ts):
 * query parameters, the login role when there is no checks role to switch to, how a failed
 * query is reported, a session that already holds a lock and a prepared statement before any
 * check runs (the embedded apply holds its environment lock on the one session every
 * connection shares), a session of its own cleaned whole, and our own deadline when the
 * database's timeout is off. One database per target for the file. On the embedded database
 * and, with TEST_DATABASE_URL, a real server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import {
  abandon,
  checkAccess,
  checkConnection,
  CheckTimeoutError,
  RefusedQueryError,
  runReadOnly,
  SideEffectError,
  type CheckAccess,
  type CheckConnection,
} from '../../actions/engine/checks/guard.ts';
import { grantChecksRole, prepareChecksRole } from '../../actions/engine/checks/checks-role.ts';
import { reportCleanupWarningsTo } from '../../actions/engine/cleanup.ts';

const SETUP = `
CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY);
CREATE OR REPLACE FUNCTION lock_then_fail() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(616161); RAISE EXCEPTION 'failed after locking'; END $$;
CREATE OR REPLACE FUNCTION lock_and_prepare() RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_lock(626262); EXECUTE 'PREPARE "le""aked" AS SELECT 1'; RETURN 1; END $$;
CREATE OR REPLACE FUNCTION prepare_two() RETURNS int LANGUAGE plpgsql AS $$
BEGIN EXECUTE 'PREPARE left_one AS SELECT 1'; EXECUTE 'PREPARE left_two AS SELECT 2'; RETURN 1; END $$;
CREATE OR REPLACE FUNCTION end_own_session() RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN 1; END $$;
`;

describe.each(databaseTargets())('the guard\'s session, on $name', (target) => {
  let db: TestDatabase;
  let database: Database;
  let admin: pg.Client;
  let access: CheckAccess;

  beforeAll(async () => {
    db = await target.create();
    database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    admin = await database.connect();
    await admin.query(SETUP);
    await prepareChecksRole(admin, db.env);
    await grantChecksRole(admin, db.env);
    access = checkAccess(db.env, database);
  });
  // A role that may write: roles outlive the test database on a server.
  const writer = `rollout_writer_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await database?.close();
    await db?.dispose();
    if (target.name === 'server') await new pg.Client({ connectionString: process.env.TEST_DATABASE_URL }).connect().then(async (c) => c.query(`DROP ROLE IF EXISTS ${writer}`).finally(() => c.end()));
  });

  /** A check connection on a client of its own; ended after `fn`. */
  async function withConnection<T>(fn: (connection: CheckConnection, client: pg.Client) => Promise<T>, overrides: Partial<CheckAccess> = {}, before?: (client: pg.Client) => Promise<unknown>): Promise<T> {
    const client = await database.connect();
    try {
      await before?.(client);
      return await fn(await checkConnection(client, { ...access, ...overrides }), client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const held = async (client: pg.Client) => {
    const { rows } = await client.query<{ locks: string[]; prepared: string[] }>(
      `SELECT array(SELECT objid::text FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() ORDER BY objid) AS locks,
              array(SELECT name FROM pg_prepared_statements WHERE from_sql ORDER BY name) AS prepared`,
    );
    return rows[0];
  };

  it('refuses to run as a login role with powers that has no checks role to switch to, and ends the connection', async () => {
    const client = await database.connect();
    const missing = `${writer}_missing`;
    await expect(checkConnection(client, { ...access, role: missing })).rejects.toThrow(
      new RegExp(`^refusing to run check SQL as \\w+, which is a superuser[^:]*: it cannot switch to the checks role \\(the role ${missing} does not exist\\)`),
    );
    await expect(client.query('SELECT 1')).rejects.toThrow();
  });

  it('refuses a checks role that can write, naming the power', async () => {
    await admin.query(`DROP ROLE IF EXISTS ${writer}; CREATE ROLE ${writer}; GRANT INSERT ON items TO ${writer}; GRANT ${writer} TO current_user`);
    const client = await database.connect();
    await expect(checkConnection(client, { ...access, role: writer })).rejects.toThrow(`refusing to run check SQL: the checks role ${writer} can write to tables; it must have no power beyond SELECT.`);
    await admin.query(`REVOKE INSERT ON items FROM ${writer}`);
  });

  it('reaches the environment\'s database as its checks role, sharing one session only on the embedded database', () => {
    expect(checkAccess(db.env, database)).toMatchObject({ role: 'rollout_checks', sharedSession: target.name === 'embedded' });
  });

  it('passes the query\'s values as parameters', async () => {
    await withConnection(async (connection) => {
      const { rows } = await runReadOnly<{ n: number; s: string }>(connection, { text: 'SELECT $1::int + 1 AS n, $2::text AS s', values: [41, "it's; DROP TABLE items"] }, 5_000);
      expect(rows).toEqual([{ n: 42, s: "it's; DROP TABLE items" }]);
    });
  });

  it('runs as the login role, still read-only, when there is no checks role to switch to', async () => {
    await withConnection(async (connection) => {
      const own = { ...connection, runAs: null };
      const { rows } = await runReadOnly<{ current: string; login: string; ro: string }>(
        own,
        { text: "SELECT current_user::text AS current, session_user::text AS login, current_setting('transaction_read_only') AS ro" },
        5_000,
      );
      expect(rows).toEqual([{ current: rows[0].login, login: rows[0].login, ro: 'on' }]);
      expect(rows[0].current).not.toBe(connection.runAs);
      // The same connection with its checks role switches to it.
      const switched = await runReadOnly<{ current: string }>(connection, { text: 'SELECT current_user::text AS current' }, 5_000);
      expect(switched.rows).toEqual([{ current: 'rollout_checks' }]);
    });
  });

  it('reports a failed query as the database\'s own error, and the next query runs', async () => {
    await withConnection(async (connection) => {
      await expect(runReadOnly(connection, { text: 'SELECT 1 / 0 AS x' }, 5_000)).rejects.toMatchObject({ code: '22012', message: 'division by zero' });
      await expect(runReadOnly(connection, { text: 'SELECT 1 AS x' }, 5_000)).resolves.toMatchObject({ rows: [{ x: 1 }] });
    });
  });

  it('a failed query that also took a session lock reports the side effect, undone', async () => {
    await withConnection(async (connection, client) => {
      const before = await held(client);
      const outcome = await runReadOnly(connection, { text: 'SELECT lock_then_fail()' }, 5_000).then(() => 'ran', (error: unknown) => error);
      expect(outcome).toBeInstanceOf(SideEffectError);
      expect(await held(client)).toEqual(before);
    });
  });

  it('lets a query run until its timeout: the deadline comes only after it', async () => {
    let interrupts = 0;
    await withConnection(
      async (connection) => {
        // The database's own timeout off: only our deadline (1.5 s) could stop the 0.9 s it sleeps.
        await expect(runReadOnly(connection, { text: 'SELECT pg_sleep(0.9)::text AS slept', settings: { statement_timeout: '0' } }, 1_000)).resolves.toMatchObject({ rows: [{ slept: '' }] });
        expect([connection.broken, interrupts]).toEqual([false, 0]);
      },
      { interrupt: () => { interrupts += 1; return Promise.resolve(); } },
    );
  });

  it('leaves no timer behind: a CLI would wait for its deadline before it exits', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    await withConnection(async (connection) => {
      const before = timers();
      await runReadOnly(connection, { text: 'SELECT 1 AS x' }, 60_000);
      await expect(runReadOnly(connection, { text: 'SELECT 1 / 0 AS x' }, 60_000)).rejects.toThrow('division by zero');
      expect(timers()).toBe(before);
    });
  });

  it('names every prepared statement a check left', async () => {
    await withConnection(async (connection) => {
      const outcome = await runReadOnly(connection, { text: 'SELECT prepare_two()' }, 5_000).then(() => 'ran', (error: unknown) => error);
      expect(outcome).toBeInstanceOf(SideEffectError);
      expect((outcome as Error).message).toMatch(/^the query left 2 prepared statement\(s\) \((left_one, left_two|left_two, left_one)\) through a function/);
    });
  });

  it('fails a check whose connection is lost after its answer: what it left could not be looked for', async () => {
    await withConnection(async (connection, client) => {
      // Cut the socket as the query's answer completes (the second ReadyForQuery: BEGIN's, then the query's), before settle's ROLLBACK.
      let ready = 0;
      client.connection.on('readyForQuery', () => {
        ready += 1;
        if (ready === 2) client.connection.stream.destroy();
      });
      const outcome = await runReadOnly(connection, { text: 'SELECT 1 AS x' }, 5_000).then(() => 'ran', (error: unknown) => error);
      expect(ready).toBe(2);
      expect(outcome).toBeInstanceOf(Error);
      expect(outcome).not.toBeInstanceOf(SideEffectError);
    });
  });

  it('refuses a setting value with anything but letters, digits, _ and ., wherever it is', async () => {
    await withConnection(async (connection) => {
      for (const value of [';1', '1;', '1 1']) {
        await expect(runReadOnly(connection, { text: 'SELECT 1', settings: { work_mem: value } }, 5_000)).rejects.toThrow(new RefusedQueryError(`invalid setting work_mem=${value}`));
      }
      await expect(runReadOnly(connection, { text: 'SELECT 1', settings: { 'Work_mem': '1MB' } }, 5_000)).rejects.toThrow(RefusedQueryError);
    });
  });

  it('on a shared session, keeps the lock and prepared statement it held before any check, and undoes only what a check left', async () => {
    const before = async (client: pg.Client) => client.query('SELECT pg_advisory_lock(606060); PREPARE apply_held AS SELECT 1');
    await withConnection(
      async (connection, client) => {
        const baseline = await held(client);
        expect(baseline).toEqual({ locks: ['606060'], prepared: ['apply_held'] });
        await expect(runReadOnly(connection, { text: 'SELECT 1 AS x' }, 5_000)).resolves.toMatchObject({ rows: [{ x: 1 }] });
        expect(await held(client)).toEqual(baseline);
        const outcome = await runReadOnly(connection, { text: 'SELECT lock_and_prepare()' }, 5_000).then(() => 'ran', (error: unknown) => error);
        expect(outcome).toMatchObject({
          name: 'SideEffectError',
          message: 'the query took 1 session-level advisory lock(s) and left 1 prepared statement(s) (le"aked) through a function it called; they survive ROLLBACK, so rollout removed them. A check must not change its session.',
        });
        expect(await held(client)).toEqual(baseline);
        await client.query('SELECT pg_advisory_unlock(606060); DEALLOCATE apply_held');
      },
      { sharedSession: true },
      before,
    );
  });

  it.runIf(target.name === 'server')('on a session of its own, starts every check from a clean session', async () => {
    await withConnection(
      async (connection, client) => {
        expect((await held(client)).prepared).toEqual(['mine']);
        await runReadOnly(connection, { text: 'SELECT 1' }, 5_000);
        expect(await held(client)).toEqual({ locks: [], prepared: [] });
        expect((await client.query<{ w: string }>("SELECT current_setting('work_mem') AS w")).rows[0].w).not.toBe('71MB');
      },
      { sharedSession: false },
      (client) => client.query("PREPARE mine AS SELECT 1; SET work_mem = '71MB'"),
    );
  });

  it.runIf(target.name === 'server')('stops a query the database would let run past its timeout, and drops the connection once', async () => {
    let interrupts = 0;
    await withConnection(
      async (connection) => {
        const outcome = await runReadOnly(connection, { text: 'SELECT pg_sleep(5)', settings: { statement_timeout: '0' } }, 100).then(() => 'ran', (error: unknown) => error);
        expect(outcome).toBeInstanceOf(CheckTimeoutError);
        expect(outcome).toMatchObject({
          name: 'CheckTimeoutError',
          message: 'timed out after 100 ms and was stopped (the connection was dropped); raise its timeout or make the query faster',
        });
        expect(connection.broken).toBe(true);
        expect(interrupts).toBe(1);
        await abandon(connection);
        expect(interrupts).toBe(1);
      },
      { interrupt: () => { interrupts += 1; return Promise.resolve(); } },
    );
  });
  it.runIf(target.name === 'server')('reports a query that ended its own session by its own error, not the settle that follows on the closed connection', async () => {
    await withConnection(async (connection) => {
      // As the login role (a superuser here): the checks role may not signal the backend.
      const outcome = await runReadOnly({ ...connection, runAs: null }, { text: 'SELECT end_own_session()' }, 5_000).then(() => 'ran', (error: unknown) => error);
      expect(outcome).toMatchObject({ code: '57P01', message: 'terminating connection due to administrator command' });
    });
  });

  it.runIf(target.name === 'server')('cuts a pipelined connection at the deadline instead of waiting for the query it sent, and warns of an interrupt that failed', async () => {
    const client = await database.connect({ pipeline: true });
    const warnings: string[] = [];
    const restore = reportCleanupWarningsTo((message) => warnings.push(message));
    try {
      const connection = await checkConnection(client, { ...access, interrupt: () => Promise.reject(new Error('no signal')) });
      const started = performance.now();
      const outcome = await runReadOnly(connection, { text: 'SELECT pg_sleep(8)', settings: { statement_timeout: '0' } }, 100).then(() => 'ran', (error: unknown) => error);
      expect(outcome).toBeInstanceOf(CheckTimeoutError);
      // The deadline is 600 ms; waiting for the query would take 8 s.
      expect(performance.now() - started).toBeLessThan(4_000);
      expect(warnings).toEqual(['interrupting a check past its deadline failed during cleanup: no signal']);
    } finally {
      restore();
      await client.end().catch(() => undefined);
    }
  });

  // Last: it restarts the embedded database, which ends every connection to it (admin's too).
  it.runIf(target.name === 'embedded')('stops a query the embedded database cannot interrupt by restarting it, and says so', async () => {
    await withConnection(async (connection) => {
      const outcome = await runReadOnly(connection, { text: 'SELECT pg_sleep(3)' }, 100).then(() => 'ran', (error: unknown) => error);
      expect(outcome).toMatchObject({
        name: 'CheckTimeoutError',
        message: 'timed out after 100 ms and was stopped (the embedded database cannot interrupt a statement, so it was restarted); raise its timeout or make the query faster',
      });
      expect(connection.broken).toBe(true);
    });
    const client = await database.connect();
    await expect(client.query('SELECT 1 AS x')).resolves.toMatchObject({ rows: [{ x: 1 }] });
    await client.end();
  });
});
