/**
 * The pure parts of the guard: which statements the parser refuses (including the top-level
 * INTO and FOR UPDATE it once missed), the deny list, and which role check SQL runs as.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../actions/engine/migrate/statements.ts';
import { assertReadOnlyStatement, chooseRole, ChecksRoleError, isForbiddenFunction, RefusedQueryError, type RoleFacts } from '../../actions/engine/checks/guard.ts';
import type { RolePowers } from '../../actions/engine/checks/checks-role.ts';

beforeAll(() => loadParser());

describe('the statement guard', () => {
  it.each([
    ['top-level SELECT … FOR UPDATE', 'SELECT * FROM victim FOR UPDATE', /FOR UPDATE\/SHARE/],
    ['top-level SELECT … FOR SHARE', 'SELECT id FROM victim WHERE id = 1 FOR SHARE', /FOR UPDATE\/SHARE/],
    ['top-level SELECT … FOR NO KEY UPDATE SKIP LOCKED', 'SELECT id FROM victim FOR NO KEY UPDATE SKIP LOCKED', /FOR UPDATE\/SHARE/],
    ['top-level SELECT … INTO', 'SELECT * INTO evil_copy FROM victim', /SELECT … INTO/],
    ['top-level SELECT … INTO TEMP', 'SELECT 1 AS x INTO TEMP evil', /SELECT … INTO/],
    ['EXPLAIN SELECT … FOR UPDATE', 'EXPLAIN SELECT * FROM victim FOR UPDATE', /FOR UPDATE\/SHARE/],
    ['FOR UPDATE in a subquery', 'SELECT * FROM (SELECT * FROM victim FOR UPDATE) s', /FOR UPDATE\/SHARE/],
    ['a deleting CTE', 'WITH d AS (DELETE FROM victim RETURNING *) SELECT count(*) FROM d', /DELETE/],
    ['pg_stat_file', "SELECT pg_stat_file('postgresql.conf')", /pg_stat_file\(\) is not allowed/],
    ['pg_read_file, qualified', "SELECT pg_catalog.pg_read_file('/etc/passwd')", /pg_read_file\(\) is not allowed/],
    ['pg_ls_dir', "SELECT * FROM pg_ls_dir('.')", /pg_ls_dir\(\) is not allowed/],
    ['another session\'s activity', 'SELECT * FROM pg_stat_get_activity(NULL)', /pg_stat_get_activity\(\) is not allowed/],
    ['another backend\'s query text', 'SELECT pg_stat_get_backend_activity(1)', /pg_stat_get_backend_activity\(\) is not allowed/],
    ['the lock table through its function', 'SELECT * FROM pg_lock_status()', /pg_lock_status\(\) is not allowed/],
    ['brin_summarize_new_values', "SELECT brin_summarize_new_values('b_brin')", /brin_summarize_new_values\(\) is not allowed/],
    ['pg_terminate_backend', 'SELECT pg_terminate_backend(1)', /pg_terminate_backend\(\) is not allowed/],
  ])('refuses %s', (_name, sql, message) => {
    expect(() => assertReadOnlyStatement(sql)).toThrow(RefusedQueryError);
    expect(() => assertReadOnlyStatement(sql)).toThrow(message);
  });

  it.each([
    'SELECT count(*) FROM victim',
    'WITH v AS (SELECT * FROM victim) SELECT count(*) FROM v',
    'SELECT * FROM pg_stat_activity',
    'EXPLAIN (FORMAT JSON) SELECT * FROM victim WHERE id = 1',
    "VALUES (1), (2)",
    'SHOW work_mem',
    "SELECT intolerance, fortune FROM (VALUES (1, 2)) AS t(intolerance, fortune)",
  ])('lets %s through', (sql) => {
    expect(() => assertReadOnlyStatement(sql)).not.toThrow();
  });

  it("refuses what the database's catalog withholds from PUBLIC, by name", () => {
    const catalog = new Set(['pg_file_write', 'some_extension_reader']);
    expect(() => assertReadOnlyStatement("SELECT some_extension_reader('x')", catalog)).toThrow(/some_extension_reader\(\) is not allowed/);
    expect(() => assertReadOnlyStatement("SELECT some_extension_reader('x')")).not.toThrow();
    expect(isForbiddenFunction('PG_FILE_WRITE', catalog)).toBe(true);
    expect(isForbiddenFunction('lower', catalog)).toBe(false);
  });
});

describe('the statement guard says what it refused and what to write instead', () => {
  const refusal = (sql: string): string => {
    try {
      assertReadOnlyStatement(sql);
    } catch (error) {
      expect(error).toBeInstanceOf(RefusedQueryError);
      return (error as Error).message;
    }
    return 'let through';
  };
  const NOT_ALLOWED = 'is not allowed in a check: checks are read-only. Use one SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW.';

  it('an empty query, a syntax error, several statements', () => {
    expect(refusal('-- nothing but a comment')).toBe('the query is empty: write one SELECT.');
    expect(refusal(';')).toBe('the query is empty: write one SELECT.');
    expect(refusal('SELEC 1')).toBe('syntax error: syntax error at or near "SELEC". Fix the SQL.');
    expect(refusal('SELECT 1; SELECT 2; SELECT 3')).toBe(
      'the query has 3 statements; a check runs exactly one read-only statement (SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW). Split it into several checks.',
    );
    expect(refusal('COMMIT; DELETE FROM victim')).toMatch(/^the query has 2 statements;/);
    // The name a log line starts with.
    expect(() => assertReadOnlyStatement('')).toThrow(expect.objectContaining({ name: 'RefusedQueryError' }) as Error);
  });

  it.each([
    ['CALL sneaky_proc()', 'CALL'],
    ['BEGIN', 'a transaction command (BEGIN/COMMIT/ROLLBACK)'],
    ["SET ROLE postgres", 'SET/RESET'],
    ['CREATE TABLE evil (id int)', 'DDL (Create)'],
    ['REFRESH MATERIALIZED VIEW totals', 'DDL (RefreshMatView)'],
    ['ALTER SYSTEM SET work_mem = 1', 'DDL (AlterSystem)'],
    ['CHECKPOINT', 'CheckPoint'],
    ["LOAD 'plugin'", 'Load'],
    ['MERGE INTO victim USING victim v ON true WHEN MATCHED THEN DELETE', 'MERGE'],
    ["INSERT INTO victim VALUES (3, 'x')", 'INSERT'],
    ["UPDATE victim SET note = 'x'", 'UPDATE'],
    ['DELETE FROM victim', 'DELETE'],
    ["COPY victim TO PROGRAM 'touch /tmp/x'", 'COPY'],
    ['DO $$ BEGIN DELETE FROM victim; END $$', 'DO'],
    ['VACUUM victim', 'VACUUM/ANALYZE'],
    ['PREPARE evil AS DELETE FROM victim', 'PREPARE'],
    ['EXECUTE evil', 'EXECUTE'],
    ['LISTEN evil_channel', 'LISTEN'],
    ["NOTIFY evil_channel, 'x'", 'NOTIFY'],
    ['UNLISTEN *', 'UNLISTEN'],
    ['LOCK TABLE victim', 'LOCK'],
    ['TRUNCATE victim', 'TRUNCATE'],
    ['DISCARD ALL', 'DISCARD'],
    ['DEALLOCATE ALL', 'DEALLOCATE'],
    ['DECLARE c CURSOR FOR SELECT 1', 'DECLARE CURSOR'],
    ['FETCH c', 'FETCH'],
    ['CLOSE c', 'CLOSE'],
    ['DROP TABLE victim', 'DDL (Drop)'],
    ['GRANT SELECT ON victim TO PUBLIC', 'DDL (Grant)'],
    ["SECURITY LABEL ON TABLE victim IS 'x'", 'SecLabel'],
  ])('refuses %s, naming it as %s', (sql, named) => {
    expect(refusal(sql)).toBe(`${named} ${NOT_ALLOWED}`);
  });

  it('lets EXPLAIN through only around a SELECT', () => {
    expect(refusal('EXPLAIN VALUES (1)')).toBe('let through');
    expect(refusal('EXPLAIN DELETE FROM victim')).toBe('EXPLAIN of DELETE is not allowed in a check: only EXPLAIN of a SELECT.');
    expect(refusal('EXPLAIN ANALYZE UPDATE victim SET note = 1')).toBe('EXPLAIN ANALYZE of UPDATE is not allowed in a check: EXPLAIN ANALYZE runs its statement; only EXPLAIN (ANALYZE) of a SELECT.');
    expect(refusal('EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO victim VALUES (1)')).toBe('EXPLAIN ANALYZE of INSERT is not allowed in a check: EXPLAIN ANALYZE runs its statement; only EXPLAIN (ANALYZE) of a SELECT.');
    expect(refusal('EXPLAIN EXECUTE prepared_one')).toBe('EXPLAIN of EXECUTE is not allowed in a check: only EXPLAIN of a SELECT.');
  });

  it('finds a write anywhere inside a SELECT', () => {
    const inside = (what: string) => `${what} is not allowed in a check (found inside the query, e.g. in a WITH): checks are read-only.`;
    expect(refusal('WITH i AS (INSERT INTO victim VALUES (3) RETURNING *) SELECT * FROM i')).toBe(inside('INSERT'));
    expect(refusal("WITH u AS (UPDATE victim SET note = 'x' RETURNING *) SELECT * FROM u")).toBe(inside('UPDATE'));
    expect(refusal('SELECT * FROM (SELECT 1) s, LATERAL (WITH d AS (DELETE FROM victim RETURNING id) SELECT * FROM d) x')).toBe(inside('DELETE'));
    expect(refusal('SELECT * FROM (SELECT 1) s FOR UPDATE')).toBe('SELECT … FOR UPDATE/SHARE takes row locks and is not allowed in a check; remove the FOR clause.');
    expect(refusal('SELECT 1 AS x INTO evil')).toBe('SELECT … INTO creates a table and is not allowed in a check; remove INTO.');
  });

  it('finds a forbidden function wherever it is called, however it is spelled', () => {
    const message = (name: string) =>
      `function ${name}() is not allowed in a check: it acts outside the read-only transaction or reads what a check may not (locks, settings, sequences, notifications, server files, other sessions).`;
    expect(refusal("SELECT 1 WHERE pg_catalog.set_config('a', 'b', false) IS NOT NULL")).toBe(message('set_config'));
    expect(refusal("SELECT 1 FROM victim WHERE id IN (SELECT nextval('victim_seq'))")).toBe(message('nextval'));
    expect(refusal('SELECT id FROM victim ORDER BY pg_advisory_xact_lock(2)')).toBe(message('pg_advisory_xact_lock'));
    expect(refusal("SELECT Set_Config('a', 'b', false)")).toBe(message('set_config'));
    expect(refusal('SELECT "pg_advisory_lock"(1)')).toBe(message('pg_advisory_lock'));
    // A name in a string is no call.
    expect(refusal("SELECT 'pg_advisory_lock(1)' AS text")).toBe('let through');
  });

  it('the deny list: fixed names and prefixes, in any case; the catalog list on top', () => {
    for (const name of ['nextval', 'PG_TERMINATE_BACKEND', 'pg_try_advisory_xact_lock_shared', 'dblink_exec', 'lo_import', 'pg_read_binary_file', 'pg_ls_waldir', 'pg_stat_reset_shared']) {
      expect(isForbiddenFunction(name), name).toBe(true);
    }
    for (const name of ['lower', 'count', 'my_pg_advisory_lock', 'now', 'pg_backend_pid', 'xlo_import']) expect(isForbiddenFunction(name), name).toBe(false);
    expect(isForbiddenFunction('Some_Extension_Reader', new Set(['some_extension_reader']))).toBe(true);
  });
});

describe('the role check SQL runs as', () => {
  const powers = (entries: Record<string, Partial<RolePowers>>) => (role: string) => (entries[role] ? { role, powers: [], dblink: [], ...entries[role] } : undefined);
  const facts = (overrides: Partial<RoleFacts>): RoleFacts => ({
    login: 'owner',
    role: 'rollout_checks',
    roleExists: true,
    canSwitch: true,
    powersOf: powers({ owner: { powers: ['is a superuser'] }, rollout_checks: {} }),
    ...overrides,
  });

  it('switches to the checks role when the login role may', () => {
    expect(chooseRole(facts({}))).toEqual({ runAs: 'rollout_checks', warnings: [] });
  });

  it('runs as the login role itself when it has no power (a read-only URL) and cannot switch', () => {
    expect(chooseRole(facts({ login: 'reader', canSwitch: false, powersOf: powers({ reader: {} }) }))).toEqual({ runAs: null, warnings: [] });
  });

  it('reads a role the audit returned no row for as a role without powers or dblink', () => {
    const unaudited = () => undefined;
    expect(chooseRole(facts({ powersOf: unaudited }))).toEqual({ runAs: 'rollout_checks', warnings: [] });
    expect(chooseRole(facts({ canSwitch: false, powersOf: unaudited }))).toEqual({ runAs: null, warnings: [] });
  });

  it('refuses to run as a writer that cannot switch, and says how to fix it', () => {
    const run = () => chooseRole(facts({ roleExists: false, canSwitch: false }));
    expect(run).toThrow(ChecksRoleError);
    expect(run).toThrow(/refusing to run check SQL as owner, which is a superuser: it cannot switch to the checks role \(the role rollout_checks does not exist\)\. Run rollout apply/);
    expect(() => chooseRole(facts({ canSwitch: false, powersOf: powers({ owner: { powers: ['can write to tables'] } }) }))).toThrow(/owner is not a member of rollout_checks/);
  });

  it('refuses a checks role that has powers of its own', () => {
    const run = () => chooseRole(facts({ powersOf: powers({ rollout_checks: { powers: ['is a member of pg_signal_backend'] } }) }));
    expect(run).toThrow(/the checks role rollout_checks is a member of pg_signal_backend; it must have no power beyond SELECT/);
  });

  it('says in full why it refuses and what to run', () => {
    const powerful = () => chooseRole(facts({ powersOf: powers({ rollout_checks: { powers: ['can write to tables', 'is a superuser'] } }) }));
    expect(powerful).toThrow(
      'refusing to run check SQL: the checks role rollout_checks can write to tables, is a superuser; it must have no power beyond SELECT. ' +
        'Run rollout apply (which strips those powers from a role it manages), or fix the role by hand if database.checks_role.manage is false.',
    );
    // The name is what a log line starts with.
    expect(() => powerful()).toThrow(expect.objectContaining({ name: 'ChecksRoleError' }) as Error);
    expect(() => chooseRole(facts({ canSwitch: false, powersOf: powers({ owner: { powers: ['can write to tables', 'can create roles'] } }) }))).toThrow(
      'refusing to run check SQL as owner, which can write to tables, can create roles: it cannot switch to the checks role (owner is not a member of rollout_checks). ' +
        'Run rollout apply on this environment (it creates rollout_checks and lets the role that applies switch to it), ' +
        'or connect checks through database.readonly_url_env as a role without those powers (docs/checks.md, "The checks role").',
    );
  });

  it('names at most three dblink functions in its warning', () => {
    const warning = (dblink: string[]) => chooseRole(facts({ powersOf: powers({ rollout_checks: { dblink } }) })).warnings[0];
    expect(warning(['dblink', 'dblink_exec', 'dblink_connect'])).toMatch(/^role rollout_checks can execute dblink, dblink_exec, dblink_connect \(through PUBLIC/);
    expect(warning(['dblink', 'dblink_exec', 'dblink_connect', 'dblink_send_query'])).toMatch(/^role rollout_checks can execute dblink, dblink_exec, dblink_connect, … \(through PUBLIC/);
  });

  it('warns when the role it runs as can execute dblink', () => {
    const { warnings } = chooseRole(facts({ powersOf: powers({ rollout_checks: { dblink: ['dblink', 'dblink_exec'] } }) }));
    expect(warnings).toEqual([expect.stringMatching(/role rollout_checks can execute dblink, dblink_exec .*REVOKE EXECUTE/)]);
  });
});
