/**
 * Writing flag changes: the definition (rollout.flag_rollouts, read through the view
 * rollout.flag_definitions), the value table (what a plain read returns: never more than the
 * stage allows, rollout.plain_value) and a NOTIFY on rollout_flags for the services' providers.
 * Every statement is set-based (jsonb_to_recordset), so 1,000 changes cost a handful of
 * round trips. Live flags change only in a flag transaction (commitFlagChanges,
 * withFlagTransaction): the ledger entry, the writes it records and the notice commit
 * together or not at all, under the environment's flag-write lock, which a running
 * migration never holds.
 */
import type pg from 'pg';
import { CHANNEL } from '../../../packages/provider/src/queries.ts';
import type { JsonValue } from '../config/model.ts';
import { FLAG_LOCK_TIMEOUT_MS, lockFlagWrites } from '../db/advisory-lock.ts';
import { withTransaction } from '../db/transaction.ts';
import { formatDuration } from '../config/duration.ts';
import { LockTimeoutError } from '../errors.ts';
import type { StoredPosition } from '../plan/types.ts';
import type { ServingSpec } from '../serving/definitions.ts';
import { appendLedger, type LedgerChange, type LedgerKind, type LedgerMeta } from './ledger.ts';
import { quoteTable } from './live-state.ts';
import { timed } from '../timings.ts';

export interface FlagWrite {
  key: string;
  /** What units in the rollout get (Git's value). undefined: delete the flag (removed from Git). */
  value?: JsonValue;
  position: StoredPosition | null;
  /**
   * Git's off value, segments and kill-switch mark (apply, revert, import). Writing them also
   * clears a break-glass override. Absent (break-glass): the stored ones stay.
   */
  serving?: ServingSpec;
  /** Break-glass on a kill switch: what every unit gets until an apply writes the flag again. */
  override?: JsonValue;
}

/** A NOTIFY payload is limited to 8000 bytes; beyond this the notice carries no keys (re-read everything). */
const MAX_NOTICE_BYTES = 7000;

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
 * transaction; returns the entry id. `beforeCommit` runs last inside it, with the entry id (the crash
 * tests pause there; health records the measurement that caused the entry there).
 */
export function commitFlagChanges(
  client: pg.ClientBase,
  flagTable: string,
  meta: LedgerMeta,
  changes: readonly LedgerChange[],
  writes: readonly FlagWrite[],
  beforeCommit?: (ledgerId: number) => Promise<void>,
): Promise<number> {
  return withFlagTransaction(client, meta.environment, () => recordFlagChanges(client, flagTable, meta, changes, writes, beforeCommit));
}

/** The ledger entry and the writes it records; the caller is inside withFlagTransaction. */
export async function recordFlagChanges(
  client: pg.ClientBase,
  flagTable: string,
  meta: LedgerMeta,
  changes: readonly LedgerChange[],
  writes: readonly FlagWrite[],
  beforeCommit?: (ledgerId: number) => Promise<void>,
): Promise<number> {
  const id = await timed('flag tx: ledger', () => appendLedger(client, meta, changes));
  await timed('flag tx: write flags', () => writeFlags(client, flagTable, writes, id, meta.kind));
  // In the same transaction: a provider that hears the notice reads what it announces.
  if (writes.length > 0) await client.query('SELECT pg_notify($1, $2)', [CHANNEL, changeNotice(id, writes.map((w) => w.key))]);
  await beforeCommit?.(id);
  return id;
}

/** '{"ledger_id": N, "keys": [...]}', or without keys when they would not fit (the provider then re-reads everything). */
export function changeNotice(ledgerId: number, keys: readonly string[]): string {
  const full = JSON.stringify({ ledger_id: ledgerId, keys });
  return Buffer.byteLength(full) <= MAX_NOTICE_BYTES ? full : JSON.stringify({ ledger_id: ledgerId });
}

/** jsonb travels as JSON text: jsonb_to_recordset turns a JSON null into SQL NULL, which here means "keep". */
const jsonText = (value: JsonValue | undefined): string | undefined => (value === undefined ? undefined : JSON.stringify(value));

async function writeFlags(client: pg.ClientBase, flagTable: string, writes: readonly FlagWrite[], ledgerId: number, kind: LedgerKind): Promise<void> {
  const upserts = writes.filter((w) => w.value !== undefined);
  const deletes = writes.filter((w) => w.value === undefined).map((w) => w.key);
  if (upserts.length > 0) {
    const records = JSON.stringify(
      upserts.map((w) => ({
        key: w.key,
        value: jsonText(w.value),
        stage: w.position?.stage ?? null,
        percent: w.position?.percent ?? null,
        ...(w.serving ? { off_value: jsonText(w.serving.offValue), segments: JSON.stringify(w.serving.segments), kill_switch: w.serving.killSwitch } : {}),
        ...(w.override !== undefined ? { override: jsonText(w.override) } : {}),
      })),
    );
    // One statement: the definition upserted, then the value table set from what it now is.
    // stage_since moves only when the position moves: it is what soak times are measured from.
    // kill_switch is carried exactly when the serving columns are (apply, revert): then the
    // override is cleared; a break-glass write keeps them and sets or keeps the override.
    await client.query(
      `WITH r AS (
         SELECT key, value::jsonb AS value, stage, percent, off_value::jsonb AS off_value, segments::jsonb AS segments, kill_switch, override::jsonb AS override
           FROM jsonb_to_recordset($1::jsonb) AS r(key text, value text, stage text, percent numeric, off_value text, segments text, kill_switch boolean, override text)
       ), defined AS (
         INSERT INTO rollout.flag_rollouts AS f (key, stage, percent, stage_since, value, off_value, segments, kill_switch, override, recorded_value, recorded_kind, ledger_id, updated_at)
         SELECT key, stage, percent, CASE WHEN stage IS NULL THEN NULL ELSE now() END, value, off_value, segments, kill_switch, override,
                rollout.plain_value(value, off_value, stage, override), $2, $3, now()
           FROM r
         ON CONFLICT (key) DO UPDATE SET
           stage = EXCLUDED.stage,
           percent = EXCLUDED.percent,
           stage_since = CASE WHEN f.stage IS NOT DISTINCT FROM EXCLUDED.stage AND f.percent IS NOT DISTINCT FROM EXCLUDED.percent
                              THEN f.stage_since ELSE EXCLUDED.stage_since END,
           value = EXCLUDED.value,
           off_value = coalesce(EXCLUDED.off_value, f.off_value),
           segments = coalesce(EXCLUDED.segments, f.segments),
           kill_switch = coalesce(EXCLUDED.kill_switch, f.kill_switch),
           override = CASE WHEN EXCLUDED.kill_switch IS NOT NULL THEN NULL ELSE coalesce(EXCLUDED.override, f.override) END,
           recorded_value = rollout.plain_value(EXCLUDED.value, coalesce(EXCLUDED.off_value, f.off_value), EXCLUDED.stage,
                                                CASE WHEN EXCLUDED.kill_switch IS NOT NULL THEN NULL ELSE coalesce(EXCLUDED.override, f.override) END),
           recorded_kind = EXCLUDED.recorded_kind,
           ledger_id = EXCLUDED.ledger_id,
           updated_at = now()
         RETURNING f.key, f.recorded_value
       )
       INSERT INTO ${quoteTable(flagTable)} (key, value, updated_at)
       SELECT key, recorded_value, now() FROM defined
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [records, kind, ledgerId],
    );
  }
  if (deletes.length > 0) {
    await client.query(`DELETE FROM ${quoteTable(flagTable)} WHERE key = ANY($1::text[])`, [deletes]);
    await client.query('DELETE FROM rollout.flag_rollouts WHERE key = ANY($1::text[])', [deletes]);
  }
}
