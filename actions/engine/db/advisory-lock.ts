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
          // In mode fail no timeout applies: the way to queue behind the holder is mode wait (newcomer mistake 56).
          (settings.mode === 'fail'
            ? 'Another apply or migration is running: wait for it to finish and retry (or set migrations.advisory_lock.mode: wait to queue behind it).'
            : 'Another apply or migration is running: wait for it to finish and retry (or raise migrations.advisory_lock.timeout).'),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 1_000);
  }
}

/**
 * Flag writes have a lock of their own, separate from the environment lock that an apply
 * holds through its migrations: a kill switch waits for no migration, only for another
 * flag transaction, and those are short (set-based writes, one ledger row).
 */
export function flagWriteLockKey(environment: string): bigint {
  const digest = createHash('sha256').update(`rollout:flag-writes:${environment}`).digest();
  return digest.readBigInt64BE(0);
}

/** How long a flag transaction waits for a lock (the flag-write lock, a row of the flag table) before it gives up. */
export const FLAG_LOCK_TIMEOUT_MS = 5_000;

/**
 * Inside a transaction: take the environment's flag-write lock (released at COMMIT or
 * ROLLBACK), then bound every other lock wait of the transaction (a row or the table of
 * the flag store) by the same timeout. Polls like lockEnvironment, so the transaction
 * stays usable to name the holder when the wait runs out.
 */
export async function lockFlagWrites(client: pg.ClientBase, environment: string, timeoutMs = FLAG_LOCK_TIMEOUT_MS): Promise<void> {
  const key = flagWriteLockKey(environment);
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [key.toString()]);
    if (rows[0]?.locked) break;
    if (Date.now() >= deadline) {
      const holder = await describeHolder(client, key);
      throw new LockTimeoutError(
        `Flag writes to "${environment}" are locked by ${holder}; waited ${formatDuration(timeoutMs)}. ` +
          "Another flag transaction (an apply's flag step, a kill switch, a revert) is committing: retry in a moment.",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 100);
  }
  await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
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
