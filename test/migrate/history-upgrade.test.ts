/**
 * A database migrated by rollout before migration identities (history table v1, kept as a
 * fixture made by that version: test/fixtures/migrate/history-v1/README.md) is read as it is
 * by plan, and upgraded in place by the next apply, which then runs only what is new.
 */
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { apply, query, withClient, writeMigrations } from './support/migrations.ts';
import { inspectMigrations } from '../../actions/engine/migrate/index.ts';
import { readOnly } from '../../actions/engine/session.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/migrate/history-v1');

describe.each(databaseTargets())('history table upgrade on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    const dump = await readFile(join(FIXTURE, 'database.sql'), 'utf8');
    // pg_dump's SETs (search_path '') would stay on the session (PGlite has only one): reset them.
    await query(db, `${dump}\nRESET ALL;`);
    await cp(join(FIXTURE, 'migrations'), join(db.root, 'migrations'), { recursive: true });
  });
  afterEach(() => db.dispose());

  it('plans on the old table without writing, then the next apply upgrades it and runs only what is new', async () => {
    const before = await withClient(db, (client) => readOnly(client, () => inspectMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv })));
    expect(before.plan.entries.map((e) => [e.id, e.state])).toEqual([
      ['1', 'applied'],
      ['2', 'applied'],
      ['3', 'applied'],
      ['4', 'applied'],
      ['20240101000000_init', 'applied'],
      ['20240102000000_users', 'applied'],
      ['20240103000000', 'failed'],
    ]);
    const columns = async (): Promise<string[]> =>
      (await query<{ column_name: string }>(db, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'rollout' AND table_name = 'schema_migrations' ORDER BY ordinal_position")).map((r) => r.column_name);
    expect(await columns()).not.toContain('id');

    // The failed file made safe to re-run, a new plain file, and two Prisma folders that share a timestamp.
    await writeMigrations(db.root, {
      '20240103000000_fails.sql': 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note ON orders (note);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_bad ON orders (total);\n',
      '20240104000000_next.sql': 'CREATE TABLE next (id int);\n',
      '20240105000000_users_name/migration.sql': 'ALTER TABLE "User" ADD COLUMN "name" TEXT;\n',
      '20240105000000_users_name_improvement/migration.sql': 'ALTER TABLE "User" ALTER COLUMN "name" SET DEFAULT \'\';\n',
    });
    const report = await apply(db, { retryFailed: true });
    expect(report.applied.map((a) => a.file.path)).toEqual([
      'migrations/20240103000000_fails.sql',
      'migrations/20240104000000_next.sql',
      'migrations/20240105000000_users_name/migration.sql',
      'migrations/20240105000000_users_name_improvement/migration.sql',
    ]);
    expect(await columns()).toEqual(expect.arrayContaining(['id', 'version', 'name', 'checksum', 'adopted_from']));
    const rows = await query<{ id: string; version: string; name: string; status: string; execution: string }>(
      db,
      'SELECT id, version::text, name, status, execution FROM rollout.schema_migrations h ORDER BY h.version, h.id',
    );
    expect(rows.map((r) => [r.id, r.name, r.status, r.execution])).toEqual([
      ['1', 'legacy', 'applied', 'baseline'],
      ['2', 'orders', 'applied', 'transaction'],
      ['3', 'orders_total', 'applied', 'statements'],
      ['4', 'script', 'applied', 'script'],
      ['20240101000000_init', 'init', 'applied', 'transaction'],
      ['20240102000000_users', 'users', 'applied', 'transaction'],
      ['20240103000000', 'fails', 'applied', 'statements'],
      ['20240104000000', 'next', 'applied', 'transaction'],
      ['20240105000000_users_name', 'users_name', 'applied', 'transaction'],
      ['20240105000000_users_name_improvement', 'users_name_improvement', 'applied', 'transaction'],
    ]);
    const [key] = await query<{ columns: string }>(
      db,
      "SELECT string_agg(a.attname, ',') AS columns FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'rollout.schema_migrations'::regclass AND i.indisprimary",
    );
    expect(key.columns).toBe('id');
    // Converged: nothing left to run, and the old rows kept their provenance.
    expect((await apply(db)).applied).toEqual([]);
    const [legacy] = await query<{ applied_by: string }>(db, "SELECT applied_by FROM rollout.schema_migrations WHERE id = '1'");
    expect(legacy.applied_by).toBe('fixture@vm');
  });
});
