/**
 * Reading what is live in an environment's database: flag values from the flag store,
 * rollout positions and last-recorded values from rollout.flag_rollouts. Read-only, and
 * tolerant of a database the tool never touched (plan must work before the first apply).
 */
import type pg from 'pg';
import type { JsonValue } from '../config/model.ts';
import type { Stage } from '../stages/ladder.ts';

export const DEFAULT_FLAG_TABLE = 'rollout.flags';

export interface LiveFlag {
  value: JsonValue;
  /** The value as the database returns it (canonical for a jsonb column): the plan hash uses it as is. */
  text?: string;
}

export interface LiveRollout {
  /** Null for flags without a rollout ladder (plain values). */
  stage: Stage | null;
  percent: number | null;
  stageSince: Date | null;
  /** The value rollout last wrote (or break-glass set); differing from live means drift. */
  recordedValue: JsonValue | null;
  /** recordedValue as the database wrote it. */
  recordedText?: string | null;
  recordedKind: string;
  ledgerId: number;
}

export interface LiveState {
  flagTable: string;
  /** False when the flag table does not exist yet (a pending migration may create it). */
  flagTableExists: boolean;
  flags: Map<string, LiveFlag>;
  rollouts: Map<string, LiveRollout>;
}

/** Quote schema.table for SQL; names come from the validated environment file. */
export function quoteTable(qualified: string): string {
  return qualified
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

export async function readLiveState(client: pg.ClientBase, flagTable: string | undefined): Promise<LiveState> {
  const table = flagTable ?? DEFAULT_FLAG_TABLE;
  const { rows: present } = await client.query<{ flags: boolean; rollouts: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS flags, to_regclass($2) IS NOT NULL AS rollouts',
    [quoteTable(table), 'rollout.flag_rollouts'],
  );
  const state: LiveState = { flagTable: table, flagTableExists: Boolean(present[0]?.flags), flags: new Map(), rollouts: new Map() };
  if (state.flagTableExists) {
    // value::text and JSON.parse: pg would parse jsonb too, but this keeps big numbers' text stable.
    const { rows } = await client.query<{ key: string; value: string }>(`SELECT key, value::text AS value FROM ${quoteTable(table)}`);
    for (const row of rows) state.flags.set(row.key, { value: JSON.parse(row.value) as JsonValue, text: row.value });
  }
  if (present[0]?.rollouts) {
    const { rows } = await client.query<{
      key: string; stage: Stage | null; percent: string | null; stage_since: Date | null; recorded_value: string | null; recorded_kind: string; ledger_id: string;
    }>('SELECT key, stage, percent::text AS percent, stage_since, recorded_value::text AS recorded_value, recorded_kind, ledger_id::text AS ledger_id FROM rollout.flag_rollouts');
    for (const row of rows) {
      state.rollouts.set(row.key, {
        stage: row.stage,
        percent: row.percent === null ? null : Number(row.percent),
        stageSince: row.stage_since,
        recordedValue: row.recorded_value === null ? null : (JSON.parse(row.recorded_value) as JsonValue),
        recordedText: row.recorded_value,
        recordedKind: row.recorded_kind,
        ledgerId: Number(row.ledger_id),
      });
    }
  }
  return state;
}
