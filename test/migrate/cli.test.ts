import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { migrateCommand } from '../../actions/cli/commands/migrate.ts';
import type { CliContext } from '../../actions/cli/context.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { withClient, writeMigrations } from './support/migrations.ts';
import { ValidationError } from '../../actions/engine/errors.ts';
import type { Problem } from '../../actions/engine/problems.ts';

/** Run `rollout migrate …` against a test database, capturing output. */
async function run(db: TestDatabase, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string[]; err: string[]; exitCode: number }> {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const ctx: CliContext = {
    root: db.root,
    out: (text) => out.push(...text.split('\n')),
    err: (line) => err.push(line),
    isTTY: false,
    env: { ...db.processEnv, ...env },
    loadEnvironment: () => Promise.resolve(db.env),
    setExitCode: (code) => {
      exitCode = Math.max(exitCode, code);
    },
  };
  const program = new Command('rollout').exitOverride().addCommand(migrateCommand(ctx));
  await program.parseAsync(['migrate', ...args], { from: 'user' });
  return { out, err, exitCode };
}

describe.each(databaseTargets())('rollout migrate on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('plans with lint findings, applies with grouped CI output, then shows status', async () => {
    await writeMigrations(db.root, {
      '1_accounts.sql': 'CREATE TABLE accounts (id bigint PRIMARY KEY);',
      '2_tier.sql': 'ALTER TABLE accounts ADD COLUMN tier text NOT NULL;',
      '3_index.sql': '-- squawk-ignore prefer-robust-stmts\nCREATE INDEX CONCURRENTLY accounts_tier ON accounts (tier);',
    });
    const plan = await run(db, ['plan', '--env', 'test']);
    expect(plan.out[0]).toBe('3 pending migration(s) for test:');
    expect(plan.out.join('\n')).toContain('3. migrations/3_index.sql  (outside a transaction, statement by statement: CREATE INDEX CONCURRENTLY at line 2)');
    // accounts is created by 1_accounts.sql in the same pending set: its NOT NULL column blocks no one.
    expect(plan.out.join('\n')).toMatch(/low-risk 1:\d+ .*\(adding-required-field\)/);
    expect(plan.out.join('\n')).toContain('low risk: public.accounts is created by migrations/1_accounts.sql in this same set of pending migrations');
    expect(plan.out.join('\n')).not.toContain('prefer-robust-stmts)');

    const apply = await run(db, ['apply', '--env', 'test'], { GITHUB_ACTIONS: 'true' });
    expect(apply.out.filter((l) => l.startsWith('::'))).toEqual([
      '::group::[1/3] migrations/1_accounts.sql', '::endgroup::',
      '::group::[2/3] migrations/2_tier.sql', '::endgroup::',
      '::group::[3/3] migrations/3_index.sql', '::endgroup::',
    ]);
    expect(apply.out.at(-1)).toMatch(/^Applied 3 migration\(s\) to test in /);

    const status = await run(db, ['status', '--env', 'test']);
    expect(status.out[0]).toBe('Migrations of test: 3 applied, 0 pending, 0 changed, 0 missing, 0 failed');
    expect(status.exitCode).toBe(0);
  });

  it('sql-migrate and goose files: the Up section runs, the Down section never does; their no-transaction markers run the file outside a transaction', async () => {
    await writeMigrations(db.root, {
      '1_people.sql': '-- +migrate Up\nCREATE TABLE people (id bigint);\n\n-- +migrate Down\nDROP TABLE people;\n',
      '2_fn.sql': '-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION one() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION one();\n',
      '3_index.sql': '-- +migrate Up notransaction\n-- squawk-ignore prefer-robust-stmts\nCREATE INDEX CONCURRENTLY people_id ON people (id);\n-- +migrate Down\nDROP INDEX people_id;\n',
      '4_goose_plain.sql': '-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE pets (id bigint);\n-- +goose Down\nDROP TABLE pets;\n',
      '5_plain.sql': '-- +migrate Up notransaction\nCREATE TABLE toys (id bigint);\n-- +migrate Down\nDROP TABLE toys;\n',
    });
    const plan = await run(db, ['plan', '--env', 'test']);
    expect(plan.out.join('\n')).toContain('3. migrations/3_index.sql  (outside a transaction');
    expect(plan.out.join('\n')).toContain('4. migrations/4_goose_plain.sql  (outside a transaction');
    expect(plan.out.join('\n')).toContain('5. migrations/5_plain.sql  (outside a transaction');
    // The Down sections are never linted either: no ban-drop-table.
    expect(plan.out.join('\n')).not.toContain('ban-drop-table');
    const apply = await run(db, ['apply', '--env', 'test']);
    expect(apply.exitCode).toBe(0);
    const found = await withClient(db, async (client) =>
      (await client.query<{ t: string | null; f: string | null; i: string; tables: string }>("SELECT to_regclass('public.people')::text AS t, to_regprocedure('public.one()')::text AS f, (SELECT string_agg(tablename || '.' || indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public') AS i, (SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public') AS tables")).rows[0],
    );
    expect(found).toEqual({ t: 'people', f: 'one()', i: 'people.people_id', tables: 'people,pets,toys' });
  });

  it("golang-migrate's up/down pairs: each up file is its version's migration, the down files are named in one warning and never run", async () => {
    await writeMigrations(db.root, {
      '000001_create_a.up.sql': 'CREATE TABLE a (id bigint PRIMARY KEY);',
      '000001_create_a.down.sql': 'DROP TABLE a;',
      '000002_create_b.up.sql': 'CREATE TABLE b (id bigint PRIMARY KEY REFERENCES a);',
      '000002_create_b.down.sql': 'DROP TABLE b;',
    });
    const plan = await run(db, ['plan', '--env', 'test']);
    const text = [...plan.out, ...plan.err].join('\n');
    expect(plan.out[0]).toBe('2 pending migration(s) for test:');
    expect(text).toContain('1. migrations/000001_create_a.up.sql');
    expect(text).toContain('2. migrations/000002_create_b.up.sql');
    expect(text).not.toMatch(/\d\. migrations\/\S+\.down\.sql/);
    expect(text).toContain('migrations/000001_create_a.down.sql and 1 other .down.sql file (migrations/000002_create_b.down.sql) are down migrations');
    const apply = await run(db, ['apply', '--env', 'test']);
    expect(apply.exitCode).toBe(0);
    const tables = await withClient(db, async (client) => (await client.query<{ t: string }>("SELECT string_agg(tablename, ',' ORDER BY tablename) AS t FROM pg_tables WHERE schemaname = 'public'")).rows[0].t);
    expect(tables).toBe('a,b');
  });

  it('node-pg-migrate JavaScript migrations beside SQL ones: an error naming them and the way out, and nothing applied (never the SQL files alone)', async () => {
    await writeMigrations(db.root, {
      '1700000000000_create-a.js': "exports.up = (pgm) => { pgm.createTable('a', { id: 'id' }); };",
      '1700000000001_add-name.ts': "export const up = (pgm) => { pgm.addColumn('a', { name: 'text' }); };",
      '1700000000002_create-c.sql': '-- Up Migration\nCREATE TABLE c (id bigint REFERENCES a);\n-- Down Migration\nDROP TABLE c;',
    });
    const plan = await run(db, ['plan', '--env', 'test']);
    expect(plan.exitCode).toBe(1);
    expect(plan.out.join('\n')).toContain('migrations/1700000000000_create-a.js:1:1: error: migrations/1700000000000_create-a.js and 1 other script migration (migrations/1700000000001_add-name.ts) are JavaScript/TypeScript migrations');
    expect(plan.out.join('\n')).toContain('Rewrite each as a SQL migration of the same version');
    const error: unknown = await run(db, ['apply', '--env', 'test']).then((r) => r, (e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const problems: Problem[] = (error as ValidationError).problems;
    expect(problems.map((p) => [p.file, p.line, p.column, p.severity])).toEqual([['migrations/1700000000000_create-a.js', 1, 1, 'error']]);
    const tables = await withClient(db, async (client) => (await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n);
    expect(Number(tables)).toBe(0);
  });

  it("a dump's CREATE TABLE IF NOT EXISTS creates the table when the database has none: what follows on it is low risk; with the table there, it is not", async () => {
    // pg_dump and `supabase db diff` write every table this way, its primary key in a later ALTER TABLE ONLY.
    await writeMigrations(db.root, {
      '1_dump.sql': 'CREATE TABLE IF NOT EXISTS "public"."study" (id uuid NOT NULL);\nALTER TABLE ONLY "public"."study" ADD CONSTRAINT "study_pkey" PRIMARY KEY (id);',
    });
    const fresh = (await run(db, ['plan', '--env', 'test'])).out.join('\n');
    expect(fresh).toContain('low risk: public.study is created by migrations/1_dump.sql in this same set of pending migrations');
    expect(fresh).not.toMatch(/error\s+2:\d+ /);
    await withClient(db, (client) => client.query('CREATE TABLE public.study (id uuid NOT NULL)'));
    const existing = (await run(db, ['plan', '--env', 'test'])).out.join('\n');
    expect(existing).not.toContain('low risk: public.study');
    expect(existing).toMatch(/error\s+2:\d+ .*\(adding-serial-primary-key-field\)/);
  });

  it("adopt from golang-migrate: its one row (the version reached) adopts every file up to it; a dirty version is refused; later files stay pending", async () => {
    await writeMigrations(db.root, {
      '000001_orders.up.sql': 'CREATE TABLE orders (id bigint);',
      '000001_orders.down.sql': 'DROP TABLE orders;',
      '000002_items.up.sql': 'CREATE TABLE items (id bigint);',
      '000002_items.down.sql': 'DROP TABLE items;',
      '000003_next.up.sql': 'CREATE TABLE next (id bigint);',
    });
    await withClient(db, (client) =>
      client.query('CREATE TABLE orders (id bigint); CREATE TABLE items (id bigint); CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, true);'),
    );
    await expect(run(db, ['adopt', '--env', 'test'])).rejects.toThrow(/golang-migrate's history \(public\.schema_migrations\) marks version 2 dirty: .*`migrate force 2`/);
    await withClient(db, (client) => client.query('UPDATE schema_migrations SET dirty = false'));
    const dry = await run(db, ['adopt', '--env', 'test']);
    expect(dry.out.filter((l) => l.startsWith('  '))).toEqual([
      "  adopt    migrations/000001_orders.up.sql  up to golang-migrate's current version (2); golang-migrate stores nothing of each migration",
      "  adopt    migrations/000002_items.up.sql  up to golang-migrate's current version (2); golang-migrate stores nothing of each migration",
      '  pending  migrations/000003_next.up.sql  not applied by golang-migrate: rollout runs it',
    ]);
    expect(dry.out[0]).toBe('Adopting the golang-migrate history in public.schema_migrations for test:');
    const written = await run(db, ['adopt', '--env', 'test', '--write']);
    expect(written.out.at(-1)).toBe('Recorded 2 migration(s) as adopted from golang-migrate in rollout.schema_migrations of test (nothing was run).');
    const apply = await run(db, ['apply', '--env', 'test']);
    expect(apply.exitCode).toBe(0);
    expect(apply.out.at(-1)).toMatch(/^Applied 1 migration\(s\) to test in /);
  });

  it('adopt: shows what it would record, records with --write, names what it found for a wrong --from, and status shows the adoption', async () => {
    await writeMigrations(db.root, { '20240101000000_orders.sql': 'CREATE TABLE orders (id int);\n', '20240102000000_next.sql': 'CREATE TABLE next (id int);\n' });
    await withClient(db, (client) =>
      client.query("CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000'); CREATE TABLE orders (id int);"),
    );
    const dry = await run(db, ['adopt', '--env', 'test']);
    expect(dry.out).toEqual([
      'Adopting the dbmate history in public.schema_migrations for test:',
      expect.stringMatching(/^ {2}adopt {4}migrations\/20240101000000_orders\.sql {2}applied by dbmate; dbmate stores no checksum: matched by version, and the database has every table/) as unknown as string,
      '  pending  migrations/20240102000000_next.sql  not applied by dbmate: rollout runs it',
      'Read-only: would record 1 migration(s) as adopted. Run again with --write to record them.',
    ]);
    expect(dry.exitCode).toBe(0);
    const written = await run(db, ['adopt', '--env', 'test', '--write']);
    expect(written.out.at(-1)).toBe('Recorded 1 migration(s) as adopted from dbmate in rollout.schema_migrations of test (nothing was run).');
    const status = await run(db, ['status', '--env', 'test']);
    expect(status.out[1]).toMatch(/^ {2}applied {2}migrations\/20240101000000_orders\.sql .* \(adopted from dbmate \(public\.schema_migrations\)\)$/);
    await expect(run(db, ['adopt', '--env', 'test', '--from', 'prisma'])).rejects.toThrow(/No migration history of prisma found .* It has: dbmate \(public\.schema_migrations\)/);
  });
});
