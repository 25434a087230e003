/**
 * Extensions on the embedded database: PGlite's contrib bundles are loaded when the history
 * creates them (and only then), and an extension PGlite cannot provide is refused by plan,
 * and by apply before anything runs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { apply, query, rejection, withClient, writeMigrations } from './support/migrations.ts';
import { previewMigrations } from '../../actions/engine/migrate/index.ts';
import { extensionsNamedIn } from '../../actions/engine/migrate/extensions.ts';
import { readOnly } from '../../actions/engine/session.ts';
import { ValidationError } from '../../actions/engine/errors.ts';

// Several embedded databases a test (each open is seconds on a busy 2-core machine), and other tools' processes.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

describe('extensionsNamedIn', () => {
  it('finds CREATE EXTENSION names, quoted or not, and skips comments', () => {
    const sql = [
      'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";',
      'create extension pgcrypto with schema public;',
      '-- CREATE EXTENSION postgis;',
      '/* CREATE EXTENSION hstore; */',
      'CREATE\n  EXTENSION IF NOT EXISTS Pg_Trgm;',
      'COMMENT ON EXTENSION citext IS \'x\';',
    ].join('\n');
    expect(extensionsNamedIn(sql)).toEqual(['uuid-ossp', 'pgcrypto', 'pg_trgm']);
    expect(extensionsNamedIn('CREATE TABLE t (id int);')).toEqual([]);
  });
});

describe.each(databaseTargets())('extensions on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('applies a history using pgcrypto, uuid-ossp, pg_trgm and citext, and their functions work after reopening', async () => {
    await writeMigrations(db.root, {
      '20240101000000_extensions/migration.sql':
        '-- CreateExtension\nCREATE EXTENSION IF NOT EXISTS "pgcrypto";\nCREATE EXTENSION IF NOT EXISTS "uuid-ossp";\nCREATE EXTENSION IF NOT EXISTS "pg_trgm";\nCREATE EXTENSION IF NOT EXISTS "citext";\n',
      '20240102000000_users/migration.sql':
        'CREATE TABLE "User" ("id" UUID NOT NULL DEFAULT uuid_generate_v4(), "email" CITEXT NOT NULL, "token" TEXT NOT NULL DEFAULT encode(gen_random_bytes(8), \'hex\'), CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n' +
        'CREATE INDEX "User_email_trgm_idx" ON "User" USING GIN ("email" gin_trgm_ops);\n',
    });
    const report = await apply(db);
    expect(report.applied).toHaveLength(2);
    // A new open of the database: the bundles are loaded again because the history creates them.
    await query(db, `INSERT INTO "User" (email) VALUES ('Ada@Example.com')`);
    const [row] = await query<{ found: number; similar: boolean; token: string; id: string }>(
      db,
      `SELECT count(*)::int AS found, bool_and(similarity(email::text, 'ada@example.org') > 0.3) AS similar, min(token) AS token, min(id::text) AS id FROM "User" WHERE email = 'ada@example.com'`,
    );
    expect(row.found).toBe(1);
    expect(row.similar).toBe(true);
    expect(row.token).toMatch(/^[0-9a-f]{16}$/);
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    const extensions = await query<{ extname: string }>(db, "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1");
    expect(extensions.map((e) => e.extname)).toEqual(['citext', 'pg_trgm', 'pgcrypto', 'uuid-ossp']);
  });

  it.runIf(target.name === 'embedded')('refuses an extension PGlite lacks in plan, naming file, line and the need for a server, and apply runs nothing', async () => {
    await writeMigrations(db.root, {
      '1_tables.sql': 'CREATE TABLE places (id int);',
      '2_geo.sql': '-- Geography\nCREATE EXTENSION IF NOT EXISTS citext;\n  CREATE EXTENSION IF NOT EXISTS postgis;\n',
    });
    const preview = await withClient(db, (client) => readOnly(client, () => previewMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv })));
    const problems = preview.problems.filter((p) => p.severity === 'error');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'migrations/2_geo.sql', line: 3, column: 3 });
    expect(problems[0].message).toContain('Extension "postgis" is not available on the embedded database (PGlite)');
    expect(problems[0].message).toContain('needs a Postgres server');
    expect(problems[0].message).toContain('environments/test.yaml');
    const error = (await rejection(apply(db))) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.map((p) => [p.file, p.line, p.column])).toEqual([['migrations/2_geo.sql', 3, 3]]);
    expect(await query(db, "SELECT 1 FROM pg_tables WHERE tablename = 'places'")).toHaveLength(0);
  });
});
