/**
 * The checks role end to end: apply makes it (no login, no superuser, SELECT only), checks
 * run as it, verify refuses before it exists, a read-only URL's powerless role runs checks
 * as itself, a writer that cannot switch is refused, and powers a DBA gave the role are
 * stripped by the next apply. Roles belong to the whole server, so tests that change one use
 * a role of their own and drop it afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn } from '../support/cli.ts';
import { sql } from '../support/sql.ts';
import type { CheckReport } from '../../actions/engine/checks/index.ts';

const WHOAMI = `checks:
  - name: who runs checks
    sql: SELECT current_user::text
    expect: { rows: 1 }
`;

const verify = async (db: TestDatabase, extraEnv: NodeJS.ProcessEnv = {}) => {
  const run = await cliOn(db, ['verify', '--env', 'test', '--format', 'json'], extraEnv);
  return { run, report: JSON.parse(run.stdout || '{}') as CheckReport };
};

describe.each(databaseTargets())('the checks role, on $name', (target) => {
  let db: TestDatabase;
  const role = `rollout_checks_${randomBytes(4).toString('hex')}`;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(async () => {
    await db.dispose();
    // Roles outlive the test database on a server.
    if (target.name === 'server') await new pg.Client({ connectionString: process.env.TEST_DATABASE_URL }).connect().then(async (c) => c.query(`DROP ROLE IF EXISTS ${role}`).finally(() => c.end()));
  });

  it('refuses to run check SQL before apply made the role, and says how to fix it', async () => {
    await writeEnvironmentWithRole(db, role, WHOAMI);
    const { run, report } = await verify(db);
    expect(run.code).toBe(1);
    expect(report.results[0]).toMatchObject({
      status: 'error',
      detail: expect.stringMatching(new RegExp(`^refusing to run check SQL as postgres, which is a superuser[^:]*: it cannot switch to the checks role \\(the role ${role} does not exist\\)\\. Run rollout apply on this environment`)) as unknown,
    });
  });

  it('is made by apply with no power beyond SELECT, and every check runs as it', async () => {
    await writeEnvironmentWithRole(db, role, `flags:\n  ui.theme:\n    value: dark\n${WHOAMI}`);
    await sql(db, 'CREATE TABLE public.orders (id int PRIMARY KEY)');
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);

    const [attributes] = await sql<Record<string, boolean>>(db, 'SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles WHERE rolname = $1', [role]);
    expect(attributes).toEqual({ rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false });
    const [privileges] = await sql<Record<string, boolean>>(
      db,
      `SELECT has_table_privilege($1, 'public.orders', 'SELECT') AS orders_select,
              has_table_privilege($1, 'public.orders', 'INSERT, UPDATE, DELETE, TRUNCATE') AS orders_write,
              has_table_privilege($1, 'rollout.ledger', 'SELECT') AS ledger_select,
              pg_has_role($1, 'pg_signal_backend', 'MEMBER') AS signal,
              pg_has_role($1, 'pg_execute_server_program', 'MEMBER') AS program,
              pg_has_role($1, 'pg_read_server_files', 'MEMBER') AS files`,
      [role],
    );
    expect(privileges).toEqual({ orders_select: true, orders_write: false, ledger_select: true, signal: false, program: false, files: false });

    const { run, report } = await verify(db);
    expect(run.code, run.stdout).toBe(0);
    expect(report.results[0]).toMatchObject({ status: 'pass', actual: `value ${role}` });
  });

  it('grants tables a later migration creates', async () => {
    await writeEnvironmentWithRole(db, role, `checks:\n  - name: reads the new table\n    sql: SELECT count(*) FROM public.later\n    expect: { value: 0 }\n`);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(1); // public.later does not exist yet
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${db.root}/migrations/0001_later.sql`, 'CREATE TABLE public.later (id int);\n');
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  });

  it('names the setting that gives it a schema its checks read, and reads it once named', async () => {
    await sql(db, 'CREATE SCHEMA reporting; CREATE TABLE reporting.daily (n int)');
    const reads = `checks:\n  - name: reads reporting\n    sql: SELECT count(*) FROM reporting.daily\n    expect: { value: 0 }\n`;
    await writeEnvironmentWithRole(db, role, reads);
    const refused = await cliOn(db, ['apply', '--env', 'test']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('permission denied for schema reporting: checks run as the checks role, which reads only its schemas; add reporting to database.checks_role.schemas');
    const { writeFile, readFile } = await import('node:fs/promises');
    const file = `${db.root}/environments/test.yaml`;
    await writeFile(file, (await readFile(file, 'utf8')).replace(`checks_role: { name: ${role} }`, `checks_role: { name: ${role}, schemas: [public, reporting] }`));
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  });

  it.runIf(target.name === 'server')('strips powers a DBA gave a role apply manages', async () => {
    await writeEnvironmentWithRole(db, role, WHOAMI);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await sql(db, `GRANT pg_signal_backend, pg_read_server_files TO ${role}; ALTER ROLE ${role} LOGIN`);
    const refused = await verify(db);
    expect(refused.report.results[0]).toMatchObject({ status: 'error', detail: expect.stringMatching(new RegExp(`the checks role ${role} is a member of pg_read_server_files, is a member of pg_signal_backend; it must have no power beyond SELECT`)) as unknown });
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    const [after] = await sql<Record<string, boolean>>(db, `SELECT rolcanlogin, pg_has_role($1, 'pg_signal_backend', 'MEMBER') AS signal FROM pg_roles WHERE rolname = $1`, [role]);
    expect(after).toEqual({ rolcanlogin: false, signal: false });
    expect((await verify(db)).run.code).toBe(0);
  });

  it.runIf(target.name === 'server')('runs checks as a read-only URL’s own role when it has no power, and refuses a writer that cannot switch', async () => {
    const reader = `${role}_reader`;
    const writer = `${role}_writer`;
    await writeEnvironmentWithRole(db, role, WHOAMI, 'READONLY_URL');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await sql(db, `CREATE ROLE ${reader} LOGIN; GRANT pg_read_all_data TO ${reader}; CREATE ROLE ${writer} LOGIN; CREATE TABLE public.owned (id int); ALTER TABLE public.owned OWNER TO ${writer}`);
    const urlAs = (user: string) => {
      const url = new URL(db.url ?? '');
      url.username = user;
      return url.toString();
    };
    try {
      const asReader = await verify(db, { READONLY_URL: urlAs(reader) });
      expect(asReader.report.results[0], asReader.run.stderr).toMatchObject({ status: 'pass', actual: `value ${reader}` });
      await sql(db, `GRANT ${role} TO ${reader}`);
      const switched = await verify(db, { READONLY_URL: urlAs(reader) });
      expect(switched.report.results[0]).toMatchObject({ status: 'pass', actual: `value ${role}` });
      // A role that cannot even read the live flags is told so (not an internal error) …
      const unreadable = await cliOn(db, ['verify', '--env', 'test'], { READONLY_URL: urlAs(writer) });
      expect(unreadable.code).toBe(1);
      expect(unreadable.stderr).toMatch(/^error: permission denied for schema rollout\. The database role this command connects as lacks a privilege/);
      // … and once it can, a writer that cannot switch to the checks role is refused.
      await sql(db, `GRANT USAGE ON SCHEMA rollout TO ${writer}; GRANT SELECT ON ALL TABLES IN SCHEMA rollout TO ${writer}`);
      const asWriter = await verify(db, { READONLY_URL: urlAs(writer) });
      expect(asWriter.report.results[0]).toMatchObject({
        status: 'error',
        detail: expect.stringMatching(new RegExp(`^refusing to run check SQL as ${writer}, which can write to tables: it cannot switch to the checks role \\(${writer} is not a member of ${role}\\)`)) as unknown,
      });
    } finally {
      await sql(db, `DROP TABLE public.owned; DROP OWNED BY ${reader}; DROP OWNED BY ${writer}; DROP ROLE ${reader}; DROP ROLE ${writer}`);
    }
  });
});

/** An environment file whose database block names a checks role (and optionally a read-only URL variable). */
async function writeEnvironmentWithRole(db: TestDatabase, role: string, body: string, readonlyUrlEnv?: string): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const spec = db.env.database;
  const where = spec.kind === 'embedded' ? `  embedded: ${spec.dir}\n` : spec.kind === 'url' ? `  url_env: ${spec.urlEnv}\n` : '';
  const readonly = readonlyUrlEnv ? `  readonly_url_env: ${readonlyUrlEnv}\n` : '';
  await mkdir(`${db.root}/environments`, { recursive: true });
  await mkdir(`${db.root}/migrations`, { recursive: true });
  await writeFile(`${db.root}/environments/test.yaml`, `version: 1\ndatabase:\n${where}${readonly}  checks_role: { name: ${role} }\n${body}`);
}
