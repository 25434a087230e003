import type pg from 'pg';
import { cleanupFailed } from '../cleanup.ts';

/**
 * Run `fn` inside BEGIN/COMMIT on `client`; ROLLBACK and rethrow if it throws.
 * A failed ROLLBACK (e.g. the connection died) must not hide the original error.
 */
export async function withTransaction<T>(client: pg.ClientBase, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(cleanupFailed('ROLLBACK after a failed transaction'));
    throw error;
  }
}
