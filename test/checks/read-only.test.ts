/**
 * Hostile checks: every write attempt a PR could smuggle into a check has no effect —
 * on the data, on sequences, and on the session (advisory locks, settings, prepared
 * statements, LISTEN). Run on the embedded database and, with TEST_DATABASE_URL, a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import { checkAccess, checkConnection, RefusedQueryError, runReadOnly, SideEffectError, type CheckAccess, type CheckConnection } from '../../actions/engine/checks/guard.ts';
import { grantChecksRole, prepareChecksRole } from '../../actions/engine/checks/checks-role.ts';
import { runChecks } from '../../actions/engine/checks/run-checks.ts';
import type { ResolvedCheck } from '../../actions/engine/checks/types.ts';

const SETUP = `
CREATE TABLE victim (id int PRIMARY KEY, note text);
INSERT INTO victim VALUES (1, 'original'), (2, 'original');
CREATE SEQUENCE victim_seq;
SELECT nextval('victim_seq');
CREATE TABLE audit (at timestamptz DEFAULT now());
CREATE FUNCTION sneaky_insert() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO victim VALUES (99, 'sneaky'); RETURN 1; END $$;
CREATE FUNCTION sneaky_lock() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(424242); RETURN 1; END $$;
CREATE FUNCTION sneaky_setting() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('work_mem', '77MB', false); RETURN 1; END $$;
CREATE PROCEDURE sneaky_proc() LANGUAGE sql AS $$ DELETE FROM victim $$;
CREATE FUNCTION sneaky_locks() RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_lock(434343); PERFORM pg_advisory_lock(434343); PERFORM pg_advisory_lock_shared(7, 8); RETURN 1; END $$;
`;

/** Each entry: a check's SQL that tries to change something. None may have any effect. */
const HOSTILE: [string, string][] = [
  ['INSERT', "INSERT INTO victim VALUES (3, 'x')"],
  ['UPDATE', "UPDATE victim SET note = 'changed'"],
  ['DELETE', 'DELETE FROM victim'],
  ['data-modifying CTE', 'WITH gone AS (DELETE FROM victim RETURNING *) SELECT count(*) FROM gone'],
  ['CREATE TABLE', 'CREATE TABLE evil (id int)'],
  ['DROP TABLE', 'DROP TABLE victim'],
  ['ALTER TABLE', 'ALTER TABLE victim ADD COLUMN evil int'],
  ['TRUNCATE', 'TRUNCATE victim'],
  ['SELECT INTO', 'SELECT * INTO evil_copy FROM victim'],
  ['nextval', "SELECT nextval('victim_seq')"],
  ['setval', "SELECT setval('victim_seq', 1000)"],
  ['advisory lock', 'SELECT pg_advisory_lock(1)'],
  ['advisory lock, schema-qualified', 'SELECT pg_catalog.pg_try_advisory_lock(2)'],
  ['COPY TO PROGRAM', "COPY victim TO PROGRAM 'touch /tmp/rollout-evil'"],
  ['COPY FROM', "COPY victim FROM '/etc/hostname'"],
  ['set_config session-level', "SELECT set_config('work_mem', '64MB', false)"],
  ['SET', "SET work_mem = '65MB'"],
  ['function with side effects', 'SELECT sneaky_insert()'],
  ['function taking a session advisory lock', 'SELECT sneaky_lock()'],
  ['SELECT FOR UPDATE', 'SELECT * FROM victim FOR UPDATE'],
  ['LISTEN', 'LISTEN evil_channel'],
  ['NOTIFY', "NOTIFY evil_channel, 'x'"],
  ['pg_notify', "SELECT pg_notify('evil_channel', 'x')"],
  ['dblink (absent or not)', "SELECT * FROM dblink('dbname=postgres', 'DELETE FROM victim') AS t(x text)"],
  ['query_to_xml running hidden SQL', "SELECT query_to_xml('SELECT pg_advisory_lock(3)', true, true, '')"],
  ['COMMIT; DELETE', 'COMMIT; DELETE FROM victim'],
  ['SELECT; DELETE', 'SELECT 1; DELETE FROM victim'],
  ['ROLLBACK then write', 'ROLLBACK; INSERT INTO victim VALUES (5, $$x$$)'],
  ['CALL procedure', 'CALL sneaky_proc()'],
  ['DO block', "DO $$ BEGIN DELETE FROM victim; END $$"],
  ['VACUUM', 'VACUUM victim'],
  ['PREPARE', 'PREPARE evil AS DELETE FROM victim'],
  ['EXPLAIN ANALYZE DELETE', 'EXPLAIN ANALYZE DELETE FROM victim'],
  ['LOCK TABLE', 'LOCK TABLE victim IN ACCESS EXCLUSIVE MODE'],
  ['set transaction read write', "SELECT set_config('transaction_read_only', 'off', true)"],
  ['lo_export', "SELECT lo_export(1, '/tmp/rollout-evil')"],
];

describe.each(databaseTargets())('checks cannot write, on $name', (target) => {
  let db: TestDatabase;
  let database: Database;
  let admin: pg.Client;
  let access: CheckAccess;

  beforeAll(async () => {
    db = await target.create();
    database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    admin = await database.connect();
    await admin.query(SETUP);
    // What apply does: the role checks run as, with SELECT on public.
    await prepareChecksRole(admin, db.env);
    await grantChecksRole(admin, db.env);
    access = checkAccess(db.env, database);
  });
  afterAll(async () => {
    await database?.close();
    await db?.dispose();
  });

  const state = async (client: pg.Client) => {
    const { rows } = await client.query<{ victim: string; seq: string; evil: boolean; columns: string; audit: string }>(
      `SELECT (SELECT json_agg(v ORDER BY id)::text FROM victim v) AS victim,
              (SELECT last_value::text FROM victim_seq) AS seq,
              to_regclass('evil') IS NOT NULL OR to_regclass('evil_copy') IS NOT NULL AS evil,
              (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'victim'::regclass AND attnum > 0 AND NOT attisdropped) AS columns,
              (SELECT count(*)::text FROM audit) AS audit`,
    );
    return rows[0];
  };
  const session = async (client: pg.Client) => {
    const { rows } = await client.query<{ locks: string; work_mem: string; prepared: string; channels: string; read_only: string }>(
      `SELECT (SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks,
              current_setting('work_mem') AS work_mem,
              (SELECT count(*)::text FROM pg_prepared_statements) AS prepared,
              (SELECT count(*)::text FROM pg_listening_channels()) AS channels,
              current_setting('transaction_read_only') AS read_only`,
    );
    return rows[0];
  };

  it('runs every hostile check through the runner with no effect on the data', async () => {
    const before = await state(admin);
    const checks: ResolvedCheck[] = HOSTILE.map(([name, sql]) => ({ name, spec: { name, sql, expect: { min_rows: 0 } }, source: 'environments/test.yaml', conditions: [] }));
    const report = await runChecks('test', checks, { root: db.root, processEnv: {}, access, flags: new Map(), concurrency: 3, timeoutMs: 5_000 });
    for (const result of report.results) {
      expect.soft(result.status, `${result.name}: ${result.detail}`).not.toBe('pass');
    }
    expect(report.ok).toBe(false);
    expect(await state(admin)).toEqual(before);
  });

  describe('on one connection, session state is left as it was', () => {
    let client: pg.Client;
    let connection: CheckConnection;
    let baseline: Awaited<ReturnType<typeof session>>;
    beforeAll(async () => {
      client = await database.connect();
      connection = await checkConnection(client, access);
      baseline = await session(client);
    });
    afterAll(() => client.end());

    it.each(HOSTILE)('%s', async (_name, sql) => {
      const before = await state(admin);
      await expect(runReadOnly(connection, { text: sql }, 5_000)).rejects.toThrow();
      expect(await session(client)).toEqual(baseline);
      expect(await state(admin)).toEqual(before);
    });

    it('catches an advisory lock taken inside a user function and releases it', async () => {
      // The parser cannot see inside sneaky_lock(): this is what the post-ROLLBACK lock audit is for.
      await expect(runReadOnly(connection, { text: 'SELECT sneaky_lock()' }, 5_000)).rejects.toThrow(/advisory lock/);
      expect((await session(client)).locks).toBe(baseline.locks);
    });

    it('runs as the checks role in a read-only transaction with the check\'s timeouts', async () => {
      const result = await runReadOnly<Record<string, string>>(
        connection,
        {
          text: `SELECT current_user::text AS role, current_setting('transaction_read_only') AS read_only, current_setting('statement_timeout') AS statement,
                        current_setting('lock_timeout') AS lock, current_setting('idle_in_transaction_session_timeout') AS idle`,
        },
        1_500,
      );
      expect(result.rows).toEqual([{ role: 'rollout_checks', read_only: 'on', statement: '1500ms', lock: '1500ms', idle: '2500ms' }]);
      expect(result.fields).toEqual(['role', 'read_only', 'statement', 'lock', 'idle']);
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
      expect(result.durationMs).toBeLessThan(60_000);
      expect(await session(client)).toEqual(baseline);
    });

    it('applies extra settings for the one query, and refuses a setting that is not a plain name and value', async () => {
      const { rows } = await runReadOnly<{ s: string }>(connection, { text: "SELECT current_setting('enable_seqscan') AS s", settings: { enable_seqscan: 'off' } }, 5_000);
      expect(rows).toEqual([{ s: 'off' }]);
      expect((await client.query<{ s: string }>("SELECT current_setting('enable_seqscan') AS s")).rows).toEqual([{ s: 'on' }]);
      const before = await state(admin);
      const invalid: Record<string, string>[] = [{ 'work_mem = 1; DELETE FROM victim; SET x': '1' }, { work_mem: "1'; DELETE FROM victim; --" }, { work_mem: '' }];
      for (const settings of invalid) {
        await expect(runReadOnly(connection, { text: 'SELECT 1', settings }, 5_000), JSON.stringify(settings)).rejects.toThrow(RefusedQueryError);
      }
      expect(await state(admin)).toEqual(before);
      expect(await session(client)).toEqual(baseline);
    });

    it('releases every advisory lock a function took, re-entrant, shared and two-key ones too, and says so', async () => {
      const outcome = await runReadOnly(connection, { text: 'SELECT sneaky_locks()' }, 5_000).then(() => 'ran', (error: unknown) => error);
      expect(outcome).toBeInstanceOf(SideEffectError);
      expect(outcome).toMatchObject({
        name: 'SideEffectError',
        message: 'the query took 2 session-level advisory lock(s) through a function it called; they survive ROLLBACK, so rollout removed them. A check must not change its session.',
      });
      expect(await session(client)).toEqual(baseline);
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid IN (434343, 8)");
      expect(rows).toEqual([{ n: 0 }]);
    });

    it('lets a function change a setting, and ROLLBACK undoes it', async () => {
      // set_config(..., false) inside a transaction is transactional: the ROLLBACK reverts it.
      await runReadOnly(connection, { text: 'SELECT sneaky_setting()' }, 5_000).catch(() => undefined);
      expect(await session(client)).toEqual(baseline);
    });

    it('still answers ordinary reads', async () => {
      const result = await runReadOnly<{ n: string }>(connection, { text: 'SELECT count(*) AS n FROM victim' }, 5_000);
      expect(result.rows).toEqual([{ n: '2' }]);
      expect(await session(client)).toEqual(baseline);
    });

    // Layer 2 on its own: `trusted` skips the parser, so only the protocol stands between
    // the text and a second statement (pg sends an empty `values` with the simple protocol).
    it.each([
      ['two SELECTs', 'SELECT 1 AS a; SELECT 2 AS b'],
      ['COMMIT, then a write outside the read-only transaction', "COMMIT; INSERT INTO victim VALUES (7, 'smuggled')"],
      ['ROLLBACK, then a write', "ROLLBACK; UPDATE victim SET note = 'smuggled'"],
    ])('without the parser, the protocol still refuses %s', async (_name, text) => {
      const before = await state(admin);
      const outcome = await runReadOnly(connection, { text, trusted: true }, 5_000).then(() => 'ran', (error: unknown) => error);
      // First what matters: the second statement did not run.
      expect(await state(admin)).toEqual(before);
      expect(outcome).toMatchObject({ message: expect.stringMatching(/cannot insert multiple commands into a prepared statement/) as unknown });
      expect(await session(client)).toEqual(baseline);
    });

    it.runIf(target.name === 'server')('stops a query at its statement timeout', async () => {
      await expect(runReadOnly(connection, { text: 'SELECT pg_sleep(5)' }, 200)).rejects.toMatchObject({ code: '57014' });
      expect(await session(client)).toEqual(baseline);
    });
  });
});
