/**
 * What the provider asks Postgres, and how it reads the answers: the contract with the
 * engine's writer (docs/serving.md). rollout.flag_definitions is a view over
 * rollout.flag_rollouts; every apply, revert and break-glass action that changes it sends
 * NOTIFY rollout_flags '{"ledger_id": N, "keys": [...]}' in the same transaction, or
 * '{"ledger_id": N}' without keys when the list would not fit (then: re-read everything).
 */
import type { DefinitionRow } from './definition.ts';

export const CHANNEL = 'rollout_flags';

const COLUMNS = 'key, value, off_value, stage, percent, segments, override, kill_switch, ledger_id';

export const SELECT_ALL = `SELECT ${COLUMNS} FROM rollout.flag_definitions`;
export const SELECT_KEYS = `SELECT ${COLUMNS} FROM rollout.flag_definitions WHERE key = ANY($1::text[])`;

/**
 * What the periodic re-read compares with the definitions held in memory (DefinitionSet.summary):
 * "count/sum of ledger_id". Every write goes through a new ledger entry, whose id is higher
 * than that of every row it touches, so any mix of missed changes, additions and removals moves
 * it: with the count unchanged, additions outnumber nothing and each new id exceeds every
 * removed one, so the sum rises. When it matches, nothing is re-read.
 */
export const SELECT_SUMMARY = `SELECT count(*)::text || '/' || coalesce(sum(ledger_id)::text, '0') AS summary FROM rollout.flag_definitions`;

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
