/**
 * Writing flag changes to the flag store and rollout.flag_rollouts. Every statement is
 * set-based (jsonb_to_recordset), so 1,000 changes cost a handful of round trips.
 * Live flags change only in a flag transaction (commitFlagChanges, withFlagTransaction): the
 * ledger entry and the writes it records commit together or not at all, under the
 * environment's flag-write lock, which a running migration never holds.
 */
import type pg from 'pg';
import type { JsonValue } from '../config/model.ts';
import { FLAG_LOCK_TIMEOUT_MS, lockFlagWrites } from '../db/advisory-lock.ts';
import { withTransaction } from '../db/transaction.ts';
import { formatDuration } from '../config/duration.ts';
import { LockTimeoutError } from '../errors.ts';
import type { Position } from '../plan/types.ts';
import { appendLedger, type LedgerChange, type LedgerKind, type LedgerMeta } from './ledger.ts';
import { quoteTable } from './live-state.ts';

export interface FlagWrite {
  key: string;
  /** undefined: delete the flag (removed from Git). */
  value?: JsonValue;
  position: Position | null;
}

/**
 * One flag transaction: BEGIN, the environment's flag-write lock (never the environment
 * lock an apply holds through its migrations), `fn`, COMMIT. Whatever `fn` reads of live
 * flags is current until the commit: no other flag writer can slip in between.
 */
export function withFlagTransaction<T>(client: pg.ClientBase, environment: string, fn: () => Promise<T>): Promise<T> {
  return withTransaction(client, async () => {
    await lockFlagWrites(client, environment);
    try {
      return await fn();
    } catch (error) {
      if ((error as { code?: unknown }).code !== '55P03') throw error;
      throw new LockTimeoutError(
        `Flag writes to "${environment}" waited more than ${formatDuration(FLAG_LOCK_TIMEOUT_MS)} for a lock on the flag store (${(error as Error).message}). ` +
          'Another session holds it, e.g. a migration that alters the flag table: retry when it is done.',
        { cause: error },
      );
    }
  });
}

/**
 * Append a ledger entry with its changes and make the flag writes it records, in one flag
 * transaction; returns the entry id. `beforeCommit` runs last inside it (the crash tests pause there).
 */
export function commitFlagChanges(...args: Parameters<typeof recordFlagChanges>): Promise<number> {
  const [client, , meta] = args;
  return withFlagTransaction(client, meta.environment, () => recordFlagChanges(...args));
}

/** The ledger entry and the writes it records; the caller is inside withFlagTransaction. */
export async function recordFlagChanges(
  client: pg.ClientBase,
  flagTable: string,
  meta: LedgerMeta,
  changes: readonly LedgerChange[],
  writes: readonly FlagWrite[],
  beforeCommit?: () => Promise<void>,
): Promise<number> {
  const id = await appendLedger(client, meta, changes);
  await writeFlags(client, flagTable, writes, id, meta.kind);
  await beforeCommit?.();
  return id;
}

async function writeFlags(client: pg.ClientBase, flagTable: string, writes: readonly FlagWrite[], ledgerId: number, kind: LedgerKind): Promise<void> {
  const table = quoteTable(flagTable);
  const upserts = writes.filter((w) => w.value !== undefined);
  const deletes = writes.filter((w) => w.value === undefined).map((w) => w.key);
  if (upserts.length > 0) {
    const records = JSON.stringify(upserts.map((w) => ({ key: w.key, value: w.value, stage: w.position?.stage ?? null, percent: w.position?.percent ?? null })));
    await client.query(
      `INSERT INTO ${table} (key, value, updated_at)
       SELECT key, value, now() FROM jsonb_to_recordset($1::jsonb) AS r(key text, value jsonb)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [records],
    );
    // stage_since moves only when the position moves: it is what soak times are measured from.
    await client.query(
      `INSERT INTO rollout.flag_rollouts AS f (key, stage, percent, stage_since, recorded_value, recorded_kind, ledger_id, updated_at)
       SELECT key, stage, percent, CASE WHEN stage IS NULL THEN NULL ELSE now() END, value, $2, $3, now()
         FROM jsonb_to_recordset($1::jsonb) AS r(key text, value jsonb, stage text, percent numeric)
       ON CONFLICT (key) DO UPDATE SET
         stage = EXCLUDED.stage,
         percent = EXCLUDED.percent,
         stage_since = CASE WHEN f.stage IS NOT DISTINCT FROM EXCLUDED.stage AND f.percent IS NOT DISTINCT FROM EXCLUDED.percent
                            THEN f.stage_since ELSE EXCLUDED.stage_since END,
         recorded_value = EXCLUDED.recorded_value,
         recorded_kind = EXCLUDED.recorded_kind,
         ledger_id = EXCLUDED.ledger_id,
         updated_at = now()`,
      [records, kind, ledgerId],
    );
  }
  if (deletes.length > 0) {
    await client.query(`DELETE FROM ${table} WHERE key = ANY($1::text[])`, [deletes]);
    await client.query('DELETE FROM rollout.flag_rollouts WHERE key = ANY($1::text[])', [deletes]);
  }
}
