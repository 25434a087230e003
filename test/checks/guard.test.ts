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

  it('warns when the role it runs as can execute dblink', () => {
    const { warnings } = chooseRole(facts({ powersOf: powers({ rollout_checks: { dblink: ['dblink', 'dblink_exec'] } }) }));
    expect(warnings).toEqual([expect.stringMatching(/role rollout_checks can execute dblink, dblink_exec .*REVOKE EXECUTE/)]);
  });
});
