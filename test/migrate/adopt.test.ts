/**
 * `rollout migrate adopt`: a database another tool migrated — by running that tool here
 * (support/tools.ts), or, for Flyway, which cannot run here (a JVM tool, not in the npm
 * registry), holding its history table as Flyway defines it — is adopted; then a new file is
 * applied by rollout and nothing else runs. A file that differs from what the tool applied is
 * reported and nothing is recorded.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { apply, query, withClient, writeMigrations } from './support/migrations.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { migrateWith, type Tool } from './support/tools.ts';
import { adoptMigrations, type AdoptOptions } from '../../actions/engine/migrate/index.ts';
import { flywayChecksum } from '../../actions/engine/migrate/adopt-content.ts';
import { readMigrationFiles } from '../../actions/engine/migrate/files.ts';
import { readOnly } from '../../actions/engine/session.ts';

// Several embedded databases a test (each open is seconds on a busy 2-core machine), and other tools' processes.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const SERVER = process.env.TEST_DATABASE_URL;

interface Case {
  tool: Tool;
  /** The migrations folder, as the tool's project has it (rollout reads the same folder). */
  directory: string;
  files: Record<string, string>;
  /** An edit of one applied file that the adoption must notice. */
  tamper: { file: string; sql: string; reported: string };
}

const CASES: Case[] = [
  {
    tool: 'dbmate',
    directory: 'db/migrations',
    files: {
      '20240101000000_create_orders.sql': '-- migrate:up\nCREATE TABLE orders (id bigserial PRIMARY KEY, total numeric NOT NULL);\n\n-- migrate:down\nDROP TABLE orders;\n',
      '20240102000000_add_note.sql': '-- migrate:up\nALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_total_idx ON orders (total);\n\n-- migrate:down\nALTER TABLE orders DROP COLUMN note;\n',
    },
    tamper: {
      file: '20240102000000_add_note.sql',
      sql: '-- migrate:up\nALTER TABLE orders ADD COLUMN note text, ADD COLUMN tag text;\nCREATE INDEX orders_total_idx ON orders (total);\n\n-- migrate:down\n',
      reported: 'the database has no column orders.tag',
    },
  },
  {
    tool: 'node-pg-migrate',
    directory: 'migrations',
    files: {
      '1700000000000_create-users.sql': '-- Up Migration\nCREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n\n-- Down Migration\nDROP TABLE users;\n',
      '1700000000001_users-email-index.sql': '-- Up Migration\nCREATE UNIQUE INDEX users_email_key ON users (email);\n\n-- Down Migration\nDROP INDEX users_email_key;\n',
    },
    tamper: {
      file: '1700000000001_users-email-index.sql',
      sql: '-- Up Migration\nCREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));\n',
      reported: 'the database has no index users_email_lower_key',
    },
  },
  {
    tool: 'prisma',
    directory: 'prisma/migrations',
    files: {
      'migration_lock.toml': 'provider = "postgresql"\n',
      '20240304123642_traces_view/migration.sql': '-- CreateTable\nCREATE TABLE "traces" ("id" TEXT NOT NULL, "name" TEXT, CONSTRAINT "traces_pkey" PRIMARY KEY ("id"));\n\nCREATE VIEW "traces_view" AS SELECT "id" FROM "traces";\n',
      '20240304123642_traces_view_improvement/migration.sql': 'CREATE OR REPLACE VIEW "traces_view" AS SELECT "id", "name" FROM "traces";\r\n',
    },
    tamper: {
      file: '20240304123642_traces_view_improvement/migration.sql',
      sql: 'CREATE OR REPLACE VIEW "traces_view" AS SELECT "id", "name", 1 AS "extra" FROM "traces";\n',
      reported: 'Prisma recorded',
    },
  },
  {
    tool: 'supabase',
    directory: 'supabase/migrations',
    files: {
      '20240101000000_init.sql': '-- profiles\ncreate table public.profiles (id uuid primary key, username text);\n\nalter table public.profiles enable row level security;\n',
      '20240102000000_policies.sql': 'create policy "read own" on public.profiles for select using (true);\n',
    },
    tamper: {
      file: '20240102000000_policies.sql',
      sql: 'create policy "read own" on public.profiles for select using (username is not null);\n',
      reported: 'statements differ',
    },
  },
];

async function adopt(db: TestDatabase, options: AdoptOptions = {}) {
  return withClient(db, (client) => {
    const run = () => adoptMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv }, options);
    return options.write ? run() : readOnly(client, run);
  });
}

describe.each(databaseTargets())('migrate adopt on $name', (target) => {
  let db: TestDatabase;
  afterEach(() => db.dispose());

  // The tools run against the server; the copy into the embedded database is shown with Prisma
  // (and Flyway below): the adoption itself is one code path for both kinds of database.
  const cases = target.name === 'server' ? CASES : CASES.filter((c) => c.tool === 'prisma');
  describe.runIf(SERVER).each(cases)('from $tool', (c) => {
    beforeEach(async () => {
      db = await target.create({ migrations: { directory: c.directory } });
      const files = Object.fromEntries(Object.entries(c.files).map(([name, sql]) => [`../${c.directory}/${name}`, sql]));
      await writeMigrations(db.root, files);
      await migrateWith(c.tool, join(db.root, c.directory), db, SERVER!);
    });

    it('adopts the history (read-only first), then applies only a new file', async () => {
      const dry = await adopt(db);
      expect(dry.recorded).toBe(0);
      expect(dry.plan.source).toBe(c.tool);
      expect(dry.plan.problems.filter((p) => p.severity === 'error')).toEqual([]);
      const sqlFiles = Object.keys(c.files).filter((f) => f.endsWith('.sql'));
      expect(dry.plan.entries.map((e) => e.state)).toEqual(sqlFiles.map(() => 'adopt'));
      expect(await query(db, "SELECT 1 FROM pg_tables WHERE schemaname = 'rollout'")).toHaveLength(0);

      const written = await adopt(db, { write: true });
      expect(written.recorded).toBe(sqlFiles.length);
      const rows = await query<{ execution: string; adopted_from: string }>(db, 'SELECT execution, adopted_from FROM rollout.schema_migrations');
      expect(rows.every((r) => r.execution === 'adopted' && r.adopted_from.startsWith(`${c.tool} (`))).toBe(true);

      const next = c.tool === 'prisma' ? '20240401000000_after/migration.sql' : '20250101000000_after.sql';
      await writeMigrations(db.root, { [`../${c.directory}/${next}`]: 'CREATE TABLE after_adoption (id int);\n' });
      const report = await apply(db);
      expect(report.applied.map((a) => a.file.path)).toEqual([`${c.directory}/${next}`]);
      // Converged: adopting again records nothing new.
      expect((await adopt(db, { write: true })).recorded).toBe(0);
    });

    it('reports a file that differs from what the tool applied, and records nothing', async () => {
      await writeFile(join(db.root, c.directory, c.tamper.file), c.tamper.sql);
      const report = await adopt(db, { write: true });
      expect(report.recorded).toBe(0);
      const errors = report.plan.problems.filter((p) => p.severity === 'error');
      expect(errors.map((p) => p.file)).toEqual([`${c.directory}/${c.tamper.file}`]);
      expect(errors[0].message).toContain(c.tamper.reported);
      expect(await query(db, "SELECT 1 FROM pg_tables WHERE schemaname = 'rollout' AND tablename = 'schema_migrations'")).toHaveLength(0);
    });
  });

  describe('from Flyway (its history table as Flyway defines it)', () => {
    /**
     * Flyway is a JVM tool that is not in the npm registry, so it cannot run here. The table is
     * Flyway 9's own PostgreSQL definition (flyway-database-postgresql, createMetaDataTable.sql),
     * and the checksums are what Flyway computes: CRC32 over each line's UTF-8 bytes without its
     * line break (Flyway's checksum calculator), as a signed integer.
     */
    const FLYWAY_TABLE = `CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");`;
    const files = {
      'V1__create_accounts.sql': 'CREATE TABLE accounts (id bigint PRIMARY KEY);\r\n',
      'V2__add_tier.sql': 'ALTER TABLE accounts ADD COLUMN tier text;\n',
      'V3__failed.sql': 'ALTER TABLE accounts ADD COLUMN nosuch_type nosuch;\n',
    };
    beforeEach(async () => {
      db = await target.create();
      await writeMigrations(db.root, files);
      const row = (rank: number, version: string, script: string, sql: string, success: boolean) =>
        `(${rank}, '${version}', '${script.replace(/^V\d+__/, '').replace('.sql', '').replace(/_/g, ' ')}', 'SQL', '${script}', ${flywayChecksum(sql)}, 'flyway', 12, ${success})`;
      await query(
        db,
        `${FLYWAY_TABLE}\nCREATE TABLE accounts (id bigint PRIMARY KEY, tier text);\n` +
          `INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES ` +
          [row(1, '1', 'V1__create_accounts.sql', files['V1__create_accounts.sql'], true), row(2, '2', 'V2__add_tier.sql', files['V2__add_tier.sql'], true), row(3, '3', 'V3__failed.sql', files['V3__failed.sql'], false)].join(', '),
      );
    });

    it('adopts the applied versions, refuses while one is failed, and notices an edited file', async () => {
      const blocked = await adopt(db, { write: true });
      expect(blocked.recorded).toBe(0);
      expect(blocked.plan.problems.map((p) => [p.file, p.severity])).toEqual([['migrations/V3__failed.sql', 'error']]);
      expect(blocked.plan.problems[0].message).toContain('recorded as failed in Flyway');

      await query(db, "DELETE FROM flyway_schema_history WHERE version = '3'");
      await writeFile(join(db.root, 'migrations/V2__add_tier.sql'), 'ALTER TABLE accounts ADD COLUMN tier varchar(10);\n');
      const edited = await adopt(db);
      expect(edited.plan.problems.map((p) => [p.file, p.message.slice(0, 60)])).toEqual([
        ['migrations/V2__add_tier.sql', 'migrations/V2__add_tier.sql is not the file Flyway applied: '],
      ]);

      await writeFile(join(db.root, 'migrations/V2__add_tier.sql'), files['V2__add_tier.sql']);
      await writeFile(join(db.root, 'migrations/V3__failed.sql'), 'ALTER TABLE accounts ADD COLUMN plan text;\n');
      const adopted = await adopt(db, { write: true, from: 'flyway' });
      expect(adopted.plan.entries.map((e) => [e.file?.path, e.state])).toEqual([
        ['migrations/V1__create_accounts.sql', 'adopt'],
        ['migrations/V2__add_tier.sql', 'adopt'],
        ['migrations/V3__failed.sql', 'pending'],
      ]);
      expect(adopted.recorded).toBe(2);
      expect((await apply(db)).applied.map((a) => a.file.path)).toEqual(['migrations/V3__failed.sql']);
    });
  });
});

describe.each(databaseTargets())('files written for dbmate or node-pg-migrate, run unmodified on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('runs the up section only, honours transaction:false, and never lints the down section', async () => {
    await writeMigrations(db.root, {
      '1_dbmate.sql': '-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n',
      '2_pgm.sql': '-- Up Migration\nCREATE TABLE u (id int);\n\n-- Down Migration\nDROP TABLE u;\n',
      // CONCURRENTLY cannot run inside a transaction: it applies only because the marker is read.
      '3_concurrent.sql': '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n\n-- migrate:down\nDROP INDEX t_id;\n',
    });
    await writeEnvironment(db, 'flags: {}\n');
    const plan = JSON.parse((await cliOn(db, ['plan', '--env', 'test', '--format', 'json'])).stdout) as { migrations: { pending: { path: string }[] }; lint?: { rule: string; file: string; line: number }[] };
    expect(JSON.stringify(plan)).not.toContain('ban-drop-table');
    const report = await apply(db);
    expect(report.applied.map((m) => [m.file.path, m.execution])).toEqual([['migrations/1_dbmate.sql', 'transaction'], ['migrations/2_pgm.sql', 'transaction'], ['migrations/3_concurrent.sql', 'statements']]);
    expect(await query(db, "SELECT tablename FROM pg_tables WHERE tablename IN ('t', 'u') ORDER BY 1")).toEqual([{ tablename: 't' }, { tablename: 'u' }]);
    expect(await query(db, "SELECT indexname FROM pg_indexes WHERE indexname = 't_id'")).toEqual([{ indexname: 't_id' }]);
  });

  it('reports an error in the up section at its line in the file as written', async () => {
    await writeMigrations(db.root, { '1_bad.sql': '-- a header the tool ignores\n-- migrate:up\nCREATE TABLE t (id int);\nCREAT TABLE oops ();\n-- migrate:down\nDROP TABLE t;\n' });
    const error = (await apply(db).catch((e: unknown) => e)) as { problems?: { file: string; line: number }[]; message: string };
    expect(error.problems?.map((p) => [p.file, p.line]) ?? error.message).toEqual([['migrations/1_bad.sql', 4]]);
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename = 't'")).toHaveLength(0);
  });
});

describe('Flyway file names', () => {
  it('reads V<version>__name.sql as that version, warns on undo files, refuses repeatable and dotted versions with the way out', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rollout-flyway-names-'));
    try {
      await writeMigrations(root, { 'V1__init.sql': 'SELECT 1;', 'V010__more.sql': 'SELECT 2;', 'U1__init.sql': 'SELECT 3;', 'R__views.sql': 'SELECT 4;', 'V1.1__fix.sql': 'SELECT 5;' });
      const { files, problems } = await readMigrationFiles(root, 'migrations');
      expect(files.map((f) => [f.path, f.version, f.name])).toEqual([['migrations/V1__init.sql', 1n, 'init'], ['migrations/V010__more.sql', 10n, 'more']]);
      expect(problems.map((p) => [p.file, p.severity, p.message.split(':')[0]]).sort()).toEqual([
        ['migrations/R__views.sql', 'error', 'migrations/R__views.sql is a Flyway repeatable migration (R__)'],
        ['migrations/U1__init.sql', 'warning', 'migrations/U1__init.sql is a Flyway undo migration'],
        ['migrations/V1.1__fix.sql', 'error', "Flyway version '1.1' in migrations/V1.1__fix.sql"],
      ]);
      expect(problems.find((p) => p.file.endsWith('V1.1__fix.sql'))?.message).toContain('V11__fix.sql');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('flywayChecksum', () => {
  it('ignores line breaks (as Flyway reads lines) and a BOM, and is a signed 32-bit integer', async () => {
    expect(flywayChecksum('a\nb\n')).toBe(flywayChecksum('a\r\nb'));
    expect(flywayChecksum('\uFEFFa\nb')).toBe(flywayChecksum('a\nb'));
    expect(flywayChecksum('a\nb')).not.toBe(flywayChecksum('a\nc'));
    // CRC32 of "ab" (the lines' bytes, without breaks) is 0x9e83486d, which as a Java int is negative.
    expect(flywayChecksum('a\nb')).toBe(0x9e83486d | 0);
    expect(await readFile(new URL(import.meta.url), 'utf8')).toContain('createMetaDataTable.sql');
  });
});
