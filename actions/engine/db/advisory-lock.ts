/**
 * One writer per environment: a session-level Postgres advisory lock on a key derived
 * from the environment's name. Waiting polls pg_try_advisory_lock instead of blocking in
 * pg_advisory_lock, so that the timeout is ours and the holder can be named when it ends.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { LockTimeoutError } from '../errors.ts';
import { formatDuration } from '../config/duration.ts';
import { cleanupFailed } from '../cleanup.ts';

export interface LockSettings {
  mode: 'wait' | 'fail';
  timeoutMs: number;
}

/** A signed 64-bit key, stable across processes and machines, distinct per environment. */
export function environmentLockKey(environment: string): bigint {
  const digest = createHash('sha256').update(`rollout:environment:${environment}`).digest();
  return digest.readBigInt64BE(0);
}

/** Take the environment's lock on `client`; resolve to a function that releases it. */
export async function lockEnvironment(client: pg.ClientBase, environment: string, settings: LockSettings): Promise<() => Promise<void>> {
  const key = environmentLockKey(environment).toString();
  const deadline = Date.now() + (settings.mode === 'fail' ? 0 : settings.timeoutMs);
  let delay = 50;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
    if (rows[0]?.locked) {
      return async () => {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(cleanupFailed(`releasing the lock of environment "${environment}" (it ends with the session)`));
      };
    }
    if (Date.now() >= deadline) {
      const holder = await describeHolder(client, environmentLockKey(environment));
      const waited = settings.mode === 'fail' ? 'lock mode is "fail"' : `waited ${formatDuration(settings.timeoutMs)}`;
      throw new LockTimeoutError(
        `Environment "${environment}" is locked by ${holder}; ${waited}. ` +
          'Another apply or migration is running: wait for it to finish and retry (or raise migrations.advisory_lock.timeout).',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 1_000);
  }
}

/** Name the session holding the key, from pg_locks × pg_stat_activity. */
async function describeHolder(client: pg.ClientBase, key: bigint): Promise<string> {
  // A bigint advisory key is stored as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
  const unsigned = BigInt.asUintN(64, key);
  const classid = (unsigned >> 32n).toString();
  const objid = (unsigned & 0xffffffffn).toString();
  try {
    const { rows } = await client.query<{ pid: number; application_name: string | null; client: string | null; usename: string | null; since: Date | null }>(
      `SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local') AS client, a.usename, a.backend_start AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid::bigint = $1::bigint AND l.objid::bigint = $2::bigint
        LIMIT 1`,
      [classid, objid],
    );
    const row = rows[0];
    if (!row) return 'another session (it may just have released it)';
    const app = row.application_name ? `"${row.application_name}"` : 'an unnamed application';
    const since = row.since ? ` since ${row.since.toISOString()}` : '';
    return `pid ${row.pid} (${app}, user ${row.usename ?? '?'}, client ${row.client ?? '?'}${since})`;
  } catch {
    return 'another session (pg_stat_activity is not readable)';
  }
}
