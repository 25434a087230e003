/** Helpers for migration tests: write files, run the migrator the way the CLI does. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { lockEnvironment, openDatabase, type Database } from '../../../actions/engine/db/index.ts';
import { applyMigrations, type ApplyOptions, type ApplyReport } from '../../../actions/engine/migrate/index.ts';
import type { TestDatabase } from '../../support/databases.ts';

/** Write `{ "0001_init.sql": "…" }` (paths relative to migrations/). */
export async function writeMigrations(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(files)) {
    const path = join(root, 'migrations', name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, sql);
  }
}

/** Open the test database, take the environment lock, run `fn`, clean up. */
export async function withClient<T>(db: TestDatabase, fn: (client: pg.Client, database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
  try {
    const client = await database.connect();
    const release = await lockEnvironment(client, db.env.name, db.env.migrations.advisoryLock);
    try {
      return await fn(client, database);
    } finally {
      await release();
    }
  } finally {
    await database.close();
  }
}

export function apply(db: TestDatabase, options: ApplyOptions = {}): Promise<ApplyReport> {
  return withClient(db, (client) => applyMigrations(client, { root: db.root, env: db.env, processEnv: db.processEnv }, options));
}

export async function query<T extends pg.QueryResultRow>(db: TestDatabase, sql: string): Promise<T[]> {
  return withClient(db, async (client) => (await client.query<T>(sql)).rows);
}

/** Capture what a rejected promise threw. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}
