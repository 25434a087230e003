import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { apply, query, rejection, withClient, writeMigrations } from './support/migrations.ts';
import { MigrationError, baselineMigrations, inspectMigrations, previewMigrations, type ProgressEvent } from '../../actions/engine/migrate/index.ts';
import { readOnly } from '../../actions/engine/session.ts';
import { ValidationError } from '../../actions/engine/errors.ts';

describe.each(databaseTargets())('migrate apply on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('applies files in numeric order, records history, and is idempotent', async () => {
    await writeMigrations(db.root, {
      '10_second.sql': 'ALTER TABLE items ADD COLUMN price numeric;',
      '9_first.sql': 'CREATE TABLE items (id bigint PRIMARY KEY, name text);',
      '0011_third/migration.sql': "INSERT INTO items VALUES (1, 'a', 2.5);",
    });
    const events: ProgressEvent['kind'][] = [];
    const first = await apply(db, { onProgress: (e) => events.push(e.kind) });
    expect(first.applied.map((a) => a.file.path)).toEqual(['migrations/9_first.sql', 'migrations/10_second.sql', 'migrations/0011_third/migration.sql']);
    expect(events).toEqual(['start', 'done', 'start', 'done', 'start', 'done']);
    const history = await query<{ version: string; name: string; status: string; execution: string; applied_by: string; checksum: string }>(
      db,
      'SELECT version::text, name, status, execution, applied_by, checksum FROM rollout.schema_migrations m ORDER BY m.version',
    );
    expect(history.map((h) => [h.version, h.name, h.status, h.execution])).toEqual([
      ['9', 'first', 'applied', 'transaction'],
      ['10', 'second', 'applied', 'transaction'],
      ['11', 'third', 'applied', 'transaction'],
    ]);
    expect(history[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    expect((await apply(db)).applied).toEqual([]);
  });

  it('runs a migration that is a symbolic link to a file elsewhere, as dbmate and Supabase do; a dangling link is an error at its name', async () => {
    // A shared file linked into the history: ../shared/2_tag.sql
    await writeMigrations(db.root, { '1_items.sql': 'CREATE TABLE items (id bigint PRIMARY KEY);', '3_more.sql': 'ALTER TABLE items ADD COLUMN note text;' });
    await mkdir(join(db.root, 'shared'), { recursive: true });
    await writeFile(join(db.root, 'shared', '2_tag.sql'), 'ALTER TABLE items ADD COLUMN tag text;');
    await symlink('../shared/2_tag.sql', join(db.root, 'migrations', '2_tag.sql'));
    expect((await apply(db)).applied.map((a) => a.file.path)).toEqual(['migrations/1_items.sql', 'migrations/2_tag.sql', 'migrations/3_more.sql']);
    expect(await query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position")).toEqual([
      { column_name: 'id' }, { column_name: 'tag' }, { column_name: 'note' },
    ]);
    await symlink('../shared/4_gone.sql', join(db.root, 'migrations', '4_gone.sql'));
    const error = (await rejection(apply(db))) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.map((p) => [p.file, p.line, p.column, p.severity, p.message])).toEqual([
      ['migrations/4_gone.sql', 1, 1, 'error', 'migrations/4_gone.sql is a symbolic link to ../shared/4_gone.sql, which does not exist. Restore the file it points to, or remove the link.'],
    ]);
  });

  it('runs the files as the plan read them when given them, not as the folder holds them later', async () => {
    await writeMigrations(db.root, { '1_make.sql': 'CREATE TABLE planned (id int);' });
    const planned = await withClient(db, (client) => readOnly(client, () => previewMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv })));
    expect(planned.prepared.map((p) => p.file.path)).toEqual(['migrations/1_make.sql']);
    // Edited after the plan was read (and hashed): the reviewed text is what runs, and what the history records.
    await writeMigrations(db.root, { '1_make.sql': 'CREATE TABLE edited (id int);' });
    const report = await apply(db, { files: planned.files });
    expect(report.applied.map((a) => a.file.checksum)).toEqual([planned.prepared[0].file.checksum]);
    const tables = await query<{ name: string }>(db, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((t) => t.name)).toEqual(['planned']);
    // Without them, apply reads the folder itself: the edit now shows as a changed applied file.
    const refused = await rejection(apply(db));
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).problems.map((p) => p.file)).toEqual(['migrations/1_make.sql']);
  });

  it('rolls back a failing migration alone and names file, line and column', async () => {
    await writeMigrations(db.root, {
      '1_ok.sql': 'CREATE TABLE a (id int);',
      '2_bad.sql': 'CREATE TABLE b (id int);\n-- a comment\nINSERT INTO b\n  SELECT nosuch FROM a;\n',
      '3_later.sql': 'CREATE TABLE c (id int);',
    });
    const error = await rejection(apply(db));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain('migrations/2_bad.sql:4:10: column "nosuch" does not exist');
    expect(error.message).toContain('1 earlier migration(s) of this run stay applied');
    const tables = await query<{ name: string }>(db, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((t) => t.name)).toEqual(['a']);
    const versions = await query<{ version: string }>(db, 'SELECT version::text FROM rollout.schema_migrations');
    expect(versions.map((v) => v.version)).toEqual(['1']);
  });

  it('locates the failing statement when Postgres gives no position', async () => {
    await writeMigrations(db.root, {
      '1_dupes.sql': 'CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1);\n\nINSERT INTO u VALUES (1);\n',
    });
    const error = await rejection(apply(db));
    expect(error.message).toMatch(/^migrations\/1_dupes\.sql:4:1: duplicate key value/);
  });

  it('runs CONCURRENTLY files outside a transaction, statement by statement', async () => {
    await writeMigrations(db.root, {
      '1_table.sql': 'CREATE TABLE t (a int);',
      '2_index.sql': 'CREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_a2 ON t (a);',
    });
    const report = await apply(db);
    expect(report.applied.map((a) => a.execution)).toEqual(['transaction', 'statements']);
    const indexes = await query<{ name: string }>(db, "SELECT indexname AS name FROM pg_indexes WHERE tablename = 't' ORDER BY 1");
    expect(indexes.map((i) => i.name)).toEqual(['t_a', 't_a2']);
  });

  it('runs files with their own BEGIN/COMMIT as written', async () => {
    await writeMigrations(db.root, {
      '1_script.sql': 'BEGIN;\nCREATE TABLE s1 (a int);\nCOMMIT;\nBEGIN;\nCREATE TABLE s2 (a int);\nCOMMIT;\n',
    });
    const report = await apply(db);
    expect(report.applied.map((a) => a.execution)).toEqual(['script']);
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename IN ('s1', 's2')")).toHaveLength(2);
  });

  it('records a BEGIN/COMMIT file whose last transaction fails as failed, keeping what it committed before', async () => {
    await writeMigrations(db.root, {
      '1_script.sql': 'BEGIN;\nCREATE TABLE s1 (a int);\nCOMMIT;\nBEGIN;\nCREATE TABLE s2 (a int);\nINSERT INTO nosuch VALUES (1);\nCOMMIT;\n',
    });
    const error = await rejection(apply(db));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain('migrations/1_script.sql:6:13: relation "nosuch" does not exist');
    expect(await query(db, "SELECT tablename FROM pg_tables WHERE tablename IN ('s1', 's2')")).toEqual([{ tablename: 's1' }]);
    const rows = await query<{ status: string; execution: string }>(db, 'SELECT status, execution FROM rollout.schema_migrations');
    expect(rows).toEqual([{ status: 'failed', execution: 'script' }]);
  });

  it('reports syntax errors in several unparsed files at once, from the server, before running any file', async () => {
    await writeMigrations(db.root, {
      '1_ok.sql': 'CREATE TABLE ok1 (a int);',
      '2_typo.sql': 'CREATE TABLE t2 (a int);\nSELEC 1;',
      '3_ok.sql': 'CREATE TABLE ok3 (a int);',
      '4_typo.sql': '-- note\nCREATE TABLE t4 (a int,);',
    });
    const error = (await rejection(apply(db))) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.map((p) => [p.file, p.line, p.column])).toEqual([
      ['migrations/2_typo.sql', 2, 1],
      ['migrations/4_typo.sql', 2, 24],
    ]);
    expect(error.problems[0].message).toContain('syntax error at or near "SELEC"');
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename LIKE 'ok%'")).toHaveLength(0);
  });

  it('records a non-transactional file that fails half-way, blocks, and retries once fixed', async () => {
    await writeMigrations(db.root, {
      '1_table.sql': 'CREATE TABLE t (a int);',
      '2_half.sql': 'CREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_b ON t (nosuch);\n',
    });
    const error = await rejection(apply(db));
    expect(error.message).toContain('migrations/2_half.sql:2:1: column "nosuch" does not exist');
    expect(error.message).toContain('--retry-failed');
    const [row] = await query<{ status: string; error: string }>(db, 'SELECT status, error FROM rollout.schema_migrations WHERE version = 2');
    expect(row).toMatchObject({ status: 'failed', error: expect.stringContaining('2_half.sql:2:1') as unknown });

    const blocked = await rejection(apply(db));
    expect(blocked).toBeInstanceOf(ValidationError);
    expect((blocked as ValidationError).problems[0].message).toContain('failed part-way');

    await writeMigrations(db.root, { '2_half.sql': 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_b ON t (a);\n' });
    const retried = await apply(db, { retryFailed: true });
    expect(retried.applied.map((a) => a.file.name)).toEqual(['half']);
    expect(await query(db, "SELECT 1 FROM rollout.schema_migrations WHERE version = 2 AND status = 'applied' AND error IS NULL")).toHaveLength(1);
  });

  it('blocks a changed applied file, but not line-ending or trailing-space changes', async () => {
    await writeMigrations(db.root, { '1_a.sql': 'CREATE TABLE a (id int);\n' });
    await apply(db);
    await writeMigrations(db.root, { '1_a.sql': 'CREATE TABLE a (id int);   \r\n\r\n' });
    expect((await apply(db)).applied).toEqual([]);
    await writeMigrations(db.root, { '1_a.sql': 'CREATE TABLE a (id bigint);\n', '2_b.sql': 'SELECT 1;' });
    const error = await rejection(apply(db));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems[0].message).toMatch(/was applied on .* but its content has changed/);
    expect(await query(db, "SELECT 1 FROM rollout.schema_migrations WHERE version = 2")).toHaveLength(0);
  });

  it('lets a reformatted applied file through with a warning when Git has the text that ran and it parses to the same statements; an edit still blocks', async () => {
    // Prisma's generated SQL put through a formatter after it was applied: same statements, other text.
    const generated = 'CREATE TABLE "Plan" (\n    "id" SERIAL NOT NULL,\n    "customerId" TEXT,\n    CONSTRAINT "Plan_pkey" PRIMARY KEY ("id")\n);\n';
    const formatted = '-- CreateTable\ncreate table\n  "Plan" (\n    "id" serial not null,\n    "customerId" text,\n    constraint "Plan_pkey" primary key ("id")\n  );\n';
    await writeMigrations(db.root, { '1_plan.sql': generated });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: db.root, stdio: 'pipe' });
    git('init', '-q');
    git('add', 'migrations');
    git('commit', '-qm', 'plan table');
    await apply(db);
    const applied = git('rev-parse', 'HEAD').toString().trim();
    await writeMigrations(db.root, { '1_plan.sql': formatted, '2_more.sql': 'ALTER TABLE "Plan" ADD COLUMN note text;' });
    const report = await apply(db);
    expect(report.applied.map((a) => a.file.path)).toEqual(['migrations/2_more.sql']);
    expect(report.problems.map((p) => [p.file, p.severity, p.message])).toEqual([
      [
        'migrations/1_plan.sql',
        'warning',
        expect.stringMatching(
          new RegExp(`^migrations/1_plan\\.sql was reformatted since it was applied on .* but its statements are the ones that ran \\(the file at commit ${applied.slice(0, 12)}\\): nothing to run again\\. Record its new checksum with \`rollout migrate baseline --env test --version 1\` to stop this warning\\.$`),
        ),
      ],
    ]);
    // One token different is an edit, reformatted or not.
    await writeMigrations(db.root, { '1_plan.sql': formatted.replace('text', 'varchar(40)') });
    const error = (await rejection(apply(db))) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems[0].message).toMatch(/^migrations\/1_plan\.sql was applied on .* but its content has changed since/);
    // Without the text that ran (history gone, as in a shallow clone), a reformat is not taken on trust.
    await writeMigrations(db.root, { '1_plan.sql': formatted });
    await rm(join(db.root, '.git'), { recursive: true, force: true });
    expect(((await rejection(apply(db))) as ValidationError).problems[0].message).toMatch(/but its content has changed since/);
  });

  it('reports missing and out-of-order files, and allows them when configured', async () => {
    await writeMigrations(db.root, { '1_a.sql': 'SELECT 1;', '3_c.sql': 'SELECT 3;' });
    await apply(db);
    const { rm } = await import('node:fs/promises');
    await rm(`${db.root}/migrations/1_a.sql`);
    await writeMigrations(db.root, { '2_b.sql': 'CREATE TABLE b (id int);' });
    const error = (await rejection(apply(db))) as ValidationError;
    const messages = error.problems.map((p) => p.message).join('\n');
    expect(messages).toContain('2_b.sql is new but older than the newest applied migration (3_c)');
    expect(messages).toMatch(/1_a was applied on .* but its file is missing/);
    db.env.migrations.allowMissing = true;
    db.env.migrations.allowOutOfOrder = true;
    const report = await apply(db);
    expect(report.applied.map((a) => a.file.name)).toEqual(['b']);
    expect(report.problems.every((p) => p.severity === 'warning')).toBe(true);
  });

  it('blames a new plain file that reuses an applied version, and keeps the applied one applied', async () => {
    await writeMigrations(db.root, { '0001_orders.sql': 'CREATE TABLE orders (id int);' });
    await apply(db);
    await writeMigrations(db.root, { '0001_dup.sql': 'CREATE TABLE dup (id int);', '0002_next.sql': 'CREATE TABLE next (id int);' });
    const error = (await rejection(apply(db))) as ValidationError;
    expect(error.problems.map((p) => [p.file, p.message.slice(0, 110)])).toEqual([
      ['migrations/0001_dup.sql', 'Migration version 0001 of migrations/0001_dup.sql is already used by migrations/0001_orders.sql (applied on 20'],
    ]);
    expect(error.problems[0].message).toContain('rename it to 0003_dup.sql');
    const status = await withClient(db, (client) => inspectMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv }));
    expect(status.plan.entries.map((e) => [e.path, e.state])).toEqual([
      ['migrations/0001_orders.sql', 'applied'],
      ['migrations/0002_next.sql', 'pending'],
    ]);
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename IN ('dup', 'next')")).toHaveLength(0);
  });

  it('runs Prisma folders that share a timestamp, and folder names with spaces, in Prisma\'s order', async () => {
    await writeMigrations(db.root, {
      '20240304123642_traces_view_improvement/migration.sql': 'CREATE OR REPLACE VIEW traces_view AS SELECT id, name FROM traces;',
      '20240304123642_traces_view/migration.sql': 'CREATE VIEW traces_view AS SELECT id FROM traces;',
      '20240101000000_init/migration.sql': 'CREATE TABLE traces (id int, name text);',
      '20240401000000_add name index/migration.sql': 'CREATE INDEX traces_name ON traces (name);',
      'migration_lock.toml': 'provider = "postgresql"\n',
    });
    const report = await apply(db);
    expect(report.applied.map((a) => a.file.id)).toEqual([
      '20240101000000_init',
      '20240304123642_traces_view',
      '20240304123642_traces_view_improvement',
      '20240401000000_add name index',
    ]);
    const rows = await query<{ id: string; version: string }>(db, 'SELECT id, version::text FROM rollout.schema_migrations h ORDER BY h.id');
    expect(rows.filter((r) => r.version === '20240304123642').map((r) => r.id)).toEqual(['20240304123642_traces_view', '20240304123642_traces_view_improvement']);
    expect((await apply(db)).applied).toEqual([]);
  });

  it('baseline adopts an existing database without running the files', async () => {
    await writeMigrations(db.root, { '1_a.sql': 'CREATE TABLE a (id int);', '2_b.sql': 'CREATE TABLE b (id int);', '3_c.sql': 'CREATE TABLE c (id int);' });
    await query(db, 'CREATE TABLE a (id int); CREATE TABLE b (id int)');
    const adopted = await withClient(db, (client) => baselineMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv }, 2n));
    expect(adopted.map((f) => f.name)).toEqual(['a', 'b']);
    expect((await apply(db)).applied.map((a) => a.file.name)).toEqual(['c']);
    const status = await withClient(db, (client) => inspectMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv }));
    expect(status.plan.entries.map((e) => [e.name, e.state, e.record?.execution])).toEqual([
      ['a', 'applied', 'baseline'],
      ['b', 'applied', 'baseline'],
      ['c', 'applied', 'transaction'],
    ]);
  });

  it('sets lock_timeout and statement_timeout, per file overridable, and resets session state between files', async () => {
    db.env.migrations.lockTimeoutMs = 4_000;
    await writeMigrations(db.root, {
      '1_seen.sql': "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS stmt;\nSET search_path = nowhere;",
      '2_override.sql': "-- rollout:lock_timeout=10s\n-- rollout:statement_timeout=1h\nINSERT INTO public.seen SELECT current_setting('lock_timeout'), current_setting('statement_timeout');",
      '3_path.sql': "INSERT INTO seen SELECT current_setting('search_path'), '';",
    });
    await apply(db);
    const rows = await query<{ lock: string; stmt: string }>(db, 'SELECT lock, stmt FROM seen');
    expect(rows.slice(0, 2)).toEqual([
      { lock: '4s', stmt: '15min' },
      { lock: '10s', stmt: '1h' },
    ]);
    // 1_seen.sql's SET search_path did not leak into 3_path.sql.
    expect(rows[2].lock).not.toContain('nowhere');
  });

  it('commits files without waiting for the WAL flush and ends the run with one flush (flush: run, on a server), or waits at every file (flush: file, and always when embedded)', async () => {
    const early = target.name === 'embedded' ? 'on' : 'off';
    const seen = "INSERT INTO commits SELECT current_setting('synchronous_commit');";
    await writeMigrations(db.root, {
      '1_table.sql': 'CREATE TABLE commits (setting text);',
      '2_tx.sql': seen,
      '3_script.sql': `BEGIN;\n${seen}\nCOMMIT;`,
      '4_statements.sql': `-- rollout:transaction=off\n${seen}`,
    });
    await apply(db);
    expect((await query<{ setting: string }>(db, 'SELECT setting FROM commits')).map((r) => r.setting)).toEqual([early, early, early]);
    // The session is back to the server's own setting after the run.
    await withClient(db, async (client) => {
      expect((await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0].synchronous_commit).toBe('on');
    });

    db.env.migrations.flush = 'file';
    await writeMigrations(db.root, { '5_tx.sql': seen, '6_script.sql': `BEGIN;\n${seen}\nCOMMIT;`, '7_statements.sql': `-- rollout:transaction=off\n${seen}` });
    await apply(db);
    expect((await query<{ setting: string }>(db, 'SELECT setting FROM commits')).map((r) => r.setting).slice(3)).toEqual(['on', 'on', 'on']);
  });

  it('forces the mode with -- rollout:transaction=off and stops before running anything on a syntax error', async () => {
    await writeMigrations(db.root, { '1_off.sql': '-- rollout:transaction=off\nCREATE TABLE off1 (a int);', '2_typo.sql': 'CREAT TABLE x (a int);' });
    const error = (await rejection(apply(db))) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems[0]).toMatchObject({ file: 'migrations/2_typo.sql', line: 1, column: 1 });
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename = 'off1'")).toHaveLength(0);
    await writeMigrations(db.root, { '2_typo.sql': 'CREATE TABLE x (a int);' });
    expect((await apply(db)).applied.map((a) => a.execution)).toEqual(['statements', 'transaction']);
  });

  it('takes a backup before applying when the environment asks for one', async () => {
    db.env.migrations.backup = { directory: 'backups' };
    await writeMigrations(db.root, { '1_a.sql': 'CREATE TABLE a (id int);' });
    const report = await withClient(db, (client, database) =>
      import('../../actions/engine/migrate/index.ts').then((m) => m.applyMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv }, { backup: (dir) => database.backup(`${db.root}/${dir}`) })),
    );
    expect(report.backup).toMatch(/backups\/test-\d{8}T\d{6}Z\.(dump|tar\.gz)$/);
    const { stat } = await import('node:fs/promises');
    expect((await stat(report.backup!)).size).toBeGreaterThan(0);
  });
});
