/**
 * The audit's attacks, through what already exists in the database rather than the check's
 * own text: a function that terminates another backend, one that runs COPY … TO PROGRAM,
 * a view over dblink, a PREPARE inside a function, brin_summarize_new_values, top-level
 * FOR UPDATE / INTO, pg_sleep past the timeout and an infinite recursive CTE. Each check
 * reports an error and leaves the database, the other sessions and the file system as they
 * were; the command returns within its timeout plus 2 s. On the embedded database and, with
 * TEST_DATABASE_URL, a real server. Where an attack cannot be staged on a target (PGlite has
 * no dblink and one backend), the test says so and runs where it can.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets, EMBEDDED_DIR, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import { checkAccess } from '../../actions/engine/checks/guard.ts';
import { grantChecksRole, prepareChecksRole } from '../../actions/engine/checks/checks-role.ts';
import { runChecks } from '../../actions/engine/checks/run-checks.ts';
import { renderCheckReport, type CheckReport, type ResolvedCheck } from '../../actions/engine/checks/index.ts';
import type { JsonValue } from '../../actions/engine/config/model.ts';

const SETUP = `
CREATE TABLE victim (id int PRIMARY KEY, note text);
INSERT INTO victim VALUES (1, 'original');
CREATE FUNCTION kill_backend(target int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN pg_terminate_backend(target); END $$;
CREATE FUNCTION write_file(path text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch ' || path); RETURN 1; END $$;
CREATE FUNCTION leak_prepared() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'PREPARE leaked AS SELECT 1'; RETURN 1; END $$;
CREATE TABLE readings (x int);
CREATE INDEX readings_brin ON readings USING brin (x) WITH (pages_per_range = 1);
INSERT INTO readings SELECT generate_series(1, 5000);
CREATE FUNCTION summarize() RETURNS int LANGUAGE sql AS $$ SELECT brin_summarize_new_values('readings_brin') $$;
`;

const check = (name: string, sql: string, expect: JsonValue = { min_rows: 0 }): ResolvedCheck => ({ name, spec: { name, sql, expect }, source: 'environments/test.yaml', conditions: [] });
const resultOf = (report: CheckReport, name: string) => report.results.find((r) => r.name === name);

describe.each(databaseTargets())('attacks through the database, on $name', (target) => {
  let db: TestDatabase;
  let database: Database;
  let admin: pg.Client;
  const probe = join(tmpdir(), `rollout-attack-${randomBytes(4).toString('hex')}`);

  const victim = async () => (await admin.query<{ rows: string }>('SELECT json_agg(v ORDER BY id)::text AS rows FROM victim v')).rows[0].rows;

  beforeAll(async () => {
    db = await target.create();
    database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    admin = await database.connect();
    await admin.query(SETUP);
    await prepareChecksRole(admin, db.env);
    await grantChecksRole(admin, db.env);
  });
  afterAll(async () => {
    await rm(probe, { force: true });
    await database?.close();
    await db?.dispose();
  });

  it('a function that terminates another backend: refused, the other session lives on', async () => {
    const bystander = target.name === 'server' ? new pg.Client({ connectionString: db.url, application_name: 'bystander' }) : await database.connect();
    if (target.name === 'server') await bystander.connect();
    bystander.on('error', () => undefined);
    try {
      const { rows } = await bystander.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const report = await runChecks('test', [check('terminate', `SELECT kill_backend(${rows[0].pid})`)], { root: db.root, processEnv: {}, access: checkAccess(db.env, database), flags: new Map() });
      expect(resultOf(report, 'terminate')).toMatchObject({ status: 'error', detail: expect.stringMatching(/permission denied to terminate process|must be a superuser to terminate superuser process/) as unknown });
      expect((await bystander.query<{ ok: number }>('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      if (target.name === 'server') {
        // The control: the same function, called by the owner, does terminate it.
        await admin.query('SELECT kill_backend($1)', [rows[0].pid]);
        await expect(bystander.query('SELECT 1')).rejects.toThrow();
      }
    } finally {
      await bystander.end().catch(() => undefined);
    }
  });

  it('the other attacks, one run: each reports an error and nothing changes', async () => {
    const before = await victim();
    const checks = [
      check('copy to program', `SELECT write_file('${probe}')`),
      check('prepare in a function', 'SELECT leak_prepared()'),
      check('the next check sees no prepared statement', 'SELECT count(*) FROM pg_prepared_statements', { value: 0 }),
      check('brin_summarize_new_values', 'SELECT summarize()'),
      check('top-level FOR UPDATE', 'SELECT * FROM victim FOR UPDATE'),
      check('top-level INTO', 'SELECT * INTO victim_copy FROM victim'),
    ];
    const report = await runChecks('test', checks, { root: db.root, processEnv: {}, access: checkAccess(db.env, database), flags: new Map(), concurrency: 1 });
    expect.soft(resultOf(report, 'copy to program')).toMatchObject({ status: 'error', detail: expect.stringMatching(/permission denied|must be superuser|pg_execute_server_program/) as unknown });
    expect.soft(resultOf(report, 'prepare in a function')).toMatchObject({ status: 'error', detail: expect.stringMatching(/side effect undone: .*left 1 prepared statement\(s\) \(leaked\)/) as unknown });
    expect.soft(resultOf(report, 'the next check sees no prepared statement')).toMatchObject({ status: 'pass' });
    expect.soft(resultOf(report, 'brin_summarize_new_values')).toMatchObject({ status: 'error', detail: expect.stringMatching(/must be owner|permission denied/) as unknown });
    expect.soft(resultOf(report, 'top-level FOR UPDATE')).toMatchObject({ status: 'error', detail: expect.stringMatching(/^refused, nothing ran: SELECT … FOR UPDATE/) as unknown });
    expect.soft(resultOf(report, 'top-level INTO')).toMatchObject({ status: 'error', detail: expect.stringMatching(/^refused, nothing ran: SELECT … INTO/) as unknown });

    expect(await victim()).toBe(before);
    expect(existsSync(probe)).toBe(false);
    expect((await admin.query('SELECT to_regclass($1) AS t', ['victim_copy'])).rows).toEqual([{ t: null }]);
    // The index was not summarized by the check: the owner still finds every new range unsummarized.
    expect(Number((await admin.query<{ n: number }>("SELECT brin_summarize_new_values('readings_brin') AS n")).rows[0].n)).toBeGreaterThan(0);
    // The control: run by the owner, the same functions do act.
    await admin.query('BEGIN; SELECT leak_prepared(); ROLLBACK');
    expect((await admin.query('SELECT name FROM pg_prepared_statements')).rows).toEqual([{ name: 'leaked' }]);
    await admin.query('DEALLOCATE leaked');
    if (target.name === 'server') {
      await admin.query('SELECT write_file($1)', [probe]);
      expect(existsSync(probe)).toBe(true);
    }
  });

  it.runIf(target.name === 'server')('a view over dblink: the checks role cannot open the connection, no row is written', async () => {
    // PGlite has no dblink; on the server the view would commit a row in another session.
    await admin.query('CREATE EXTENSION IF NOT EXISTS dblink');
    const url = new URL(db.url ?? '');
    const conn = `host=${url.hostname} port=${url.port || 5432} dbname=${url.pathname.slice(1)} user=${decodeURIComponent(url.username)}`;
    await admin.query(`CREATE VIEW remote_write AS SELECT * FROM dblink('${conn}', $$INSERT INTO victim VALUES (7, 'remote') RETURNING id$$) AS t(id int)`);
    await grantChecksRole(admin, db.env);
    const report = await runChecks('test', [check('dblink view', 'SELECT * FROM remote_write')], { root: db.root, processEnv: {}, access: checkAccess(db.env, database), flags: new Map() });
    expect(resultOf(report, 'dblink view')).toMatchObject({ status: 'error', detail: expect.stringMatching(/password is required|password or GSSAPI/) as unknown });
    expect(report.warnings).toEqual([expect.stringMatching(/role rollout_checks can execute dblink/)]);
    expect(renderCheckReport(report, 'text')).toMatch(/\nwarning: role rollout_checks can execute dblink/);
    expect(await victim()).not.toContain('remote');
    // The control: read by the owner inside a READ ONLY transaction, the view still writes.
    await admin.query('BEGIN READ ONLY; SELECT * FROM remote_write; ROLLBACK');
    expect(await victim()).toContain('remote');
    await admin.query('DELETE FROM victim WHERE id = 7');
  });
});

/**
 * Runaway checks, through the command a user runs: `rollout verify` with a 1 s timeout must
 * answer within 1 s + 2 s more than the same command with a trivial check, with an error for
 * that check, the data unchanged and the database usable afterwards.
 */
describe.each(databaseTargets())('runaway checks end at their timeout, on $name', (target) => {
  let db: TestDatabase;
  const TIMEOUT_MS = 1_000;

  const environment = (sql: string, after = '') =>
    writeEnvironment(db, `checks:\n  - name: runaway\n    sql: "${sql}"\n    timeout: 1s\n    expect: { min_rows: 0 }\n${after}`);
  const verify = async () => {
    const started = performance.now();
    const run = await cliOn(db, ['verify', '--env', 'test', '--format', 'json']);
    return { run, ms: performance.now() - started, report: JSON.parse(run.stdout) as CheckReport };
  };

  beforeAll(async () => {
    db = await target.create();
    await environment('SELECT 1');
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterAll(() => db?.dispose());

  it.each([
    ['pg_sleep past the timeout', 'SELECT pg_sleep(20)'],
    ['an infinite recursive CTE', 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r'],
  ])('%s', async (_name, sql) => {
    await environment('SELECT 1');
    const baseline = await verify();
    expect(baseline.run.code, baseline.run.stderr).toBe(0);

    await environment(sql);
    const runaway = await verify();
    expect(runaway.run.code).toBe(1);
    expect(runaway.run.stderr).toBe('');
    // A server stops it at its statement_timeout; the embedded database, by the guard's deadline (not the runner's last backstop).
    const stopped = target.name === 'server' ? /^timed out after 1 s \(statement_timeout\)/ : /^timed out after 1 s and was stopped \(the embedded database cannot interrupt a statement, so it was restarted\)/;
    expect(runaway.report.results[0]).toMatchObject({ status: 'error', detail: expect.stringMatching(stopped) as unknown });
    expect(runaway.report.results[0].durationMs).toBeLessThan(TIMEOUT_MS + 2_000);
    expect(runaway.ms - baseline.ms).toBeLessThan(TIMEOUT_MS + 2_000);

    // The next check of the same run answers (on the embedded database, after the restart), and a spilling query left no temporary files behind.
    await environment(sql, '  - name: after it\n    sql: SELECT count(*) FROM rollout.flags\n    expect: { min_rows: 1 }\n');
    const both = await verify();
    expect(both.report.results.map((r) => r.status)).toEqual(['error', 'pass']);
    if (target.name === 'embedded') {
      const tmp = join(db.root, EMBEDDED_DIR, 'base', 'pgsql_tmp');
      expect(existsSync(tmp) ? await readdir(tmp) : []).toEqual([]);
    }
  });
});
