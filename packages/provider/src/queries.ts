/**
 * What the provider asks Postgres, and how it reads the answers: the contract with the
 * engine's writer (docs/serving.md). rollout.flag_definitions is a view over
 * rollout.flag_rollouts; every apply, revert and break-glass action that changes it sends
 * NOTIFY rollout_flags '{"ledger_id": N, "keys": [...]}' in the same transaction, or
 * '{"ledger_id": N}' without keys when the list would not fit (then: re-read everything).
 */
import type { DefinitionRow } from './definition.ts';

export const CHANNEL = 'rollout_flags';

const COLUMNS = 'd.key, d.value, d.off_value, d.stage, d.percent, d.segments, d.override, d.kill_switch, d.ledger_id';

/**
 * A cheap summary of the whole view: when none of it moved, the periodic re-read stops here.
 * Every write goes through a new ledger entry, so an added or changed row raises the highest
 * ledger_id or updated_at, and a removed one lowers the count.
 */
const SUMMARY = `SELECT count(*)::text || '/' || coalesce(max(ledger_id)::text, '') || '/' || coalesce(max(updated_at)::text, '') AS summary FROM rollout.flag_definitions`;

export const SELECT_SUMMARY = SUMMARY;

/**
 * Rows and the view's summary in one statement — one snapshot, one round trip. The summary
 * rides on every row; when no row matches, one row with a NULL key carries it.
 */
export const SELECT_ALL = `WITH s AS (${SUMMARY}) SELECT ${COLUMNS}, s.summary FROM s LEFT JOIN rollout.flag_definitions d ON true`;
export const SELECT_KEYS = `WITH s AS (${SUMMARY}) SELECT ${COLUMNS}, s.summary FROM s LEFT JOIN rollout.flag_definitions d ON d.key = ANY($1::text[])`;

/** Split a read into its definition rows and the summary it was taken with. */
export function splitRead(rows: ReadonlyArray<DefinitionRow & { summary: string }>): { rows: DefinitionRow[]; summary: string } {
  return { rows: rows.filter((row) => row.key !== null), summary: rows[0]?.summary ?? '' };
}

export type DefinitionRows = DefinitionRow[];

export interface ChangeNotice {
  ledgerId: number | null;
  /** The keys that changed; undefined: re-read everything. */
  keys?: string[];
}

/** Read a NOTIFY payload; anything unexpected means "re-read everything", never an error. */
export function parseNotice(payload: string | undefined): ChangeNotice {
  if (!payload) return { ledgerId: null };
  try {
    const parsed = JSON.parse(payload) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return { ledgerId: null };
    const record = parsed as Record<string, unknown>;
    const ledgerId = typeof record.ledger_id === 'number' && Number.isFinite(record.ledger_id) ? record.ledger_id : null;
    const keys = record.keys;
    if (Array.isArray(keys) && keys.every((key): key is string => typeof key === 'string')) return { ledgerId, keys };
    return { ledgerId };
  } catch {
    return { ledgerId: null };
  }
}
