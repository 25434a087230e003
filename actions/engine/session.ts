/**
 * An open connection to one environment's database, optionally holding the
 * environment's advisory lock: the edge every command that touches live state goes through.
 */
import type pg from 'pg';
import type { Environment } from './config/model.ts';
import { lockEnvironment, openDatabase, type Database } from './db/index.ts';

export interface SessionOptions {
  root: string;
  processEnv: NodeJS.ProcessEnv;
  /** Take the per-environment writer lock (apply, kill); plan and status do not. */
  lock: boolean;
}

export interface Session {
  env: Environment;
  db: Database;
  client: pg.Client;
}

export async function withSession<T>(env: Environment, options: SessionOptions, fn: (session: Session) => Promise<T>): Promise<T> {
  const db = await openDatabase(env, { root: options.root, processEnv: options.processEnv });
  try {
    const client = await db.connect();
    const release = options.lock ? await lockEnvironment(client, env.name, env.migrations.advisoryLock) : undefined;
    try {
      return await fn({ env, db, client });
    } finally {
      await release?.();
    }
  } finally {
    await db.close();
  }
}

/** Run `fn` in a read-only snapshot: whatever it does, it cannot write (plan, status). */
export async function readOnly<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    return await fn();
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}
