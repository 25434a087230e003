/**
 * An open connection to one environment's database, optionally holding the
 * environment's advisory lock: the edge every command that touches live state goes through.
 */
import type pg from 'pg';
import type { Environment } from './config/model.ts';
import { isOpen } from './db/database.ts';
import { lockEnvironment, openDatabase, type Database } from './db/index.ts';
import { cleanupFailed } from './cleanup.ts';

export interface SessionOptions {
  root: string;
  processEnv: NodeJS.ProcessEnv;
  /** Take the per-environment lock (apply, migrate, import); kill, plan and status do not (flag writes have a lock of their own). */
  lock: boolean;
}

export interface Session {
  env: Environment;
  db: Database;
  /** The session's client (holding the lock when asked for). */
  client: pg.Client;
  /**
   * A client that still works, holding the lock when the session took one: `client`, or a new
   * one when its connection ended (the embedded database restarts to stop a runaway check).
   * What writes after checks ran (a revert, a kill switch) asks for it.
   */
  writer(): Promise<pg.Client>;
}

export async function withSession<T>(env: Environment, options: SessionOptions, fn: (session: Session) => Promise<T>): Promise<T> {
  const db = await openDatabase(env, { root: options.root, processEnv: options.processEnv });
  try {
    const lock = (client: pg.Client) => (options.lock ? lockEnvironment(client, env.name, env.migrations.advisoryLock) : Promise.resolve(undefined));
    const client = await db.connect();
    let release = await lock(client);
    const session: Session = {
      env,
      db,
      client,
      async writer() {
        if (isOpen(session.client)) return session.client;
        const fresh = await db.connect();
        release = await lock(fresh);
        session.client = fresh;
        return fresh;
      },
    };
    try {
      return await fn(session);
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
    await client.query('ROLLBACK').catch(cleanupFailed('ending the read-only snapshot (ROLLBACK)'));
  }
}
