/**
 * Reading what is live in an environment's database: the flags' definitions, positions and
 * last-recorded values from rollout.flag_rollouts, and what the flag store (the value table)
 * holds. Read-only, and tolerant of a database the tool never touched (plan must work before
 * the first apply) or one an older version wrote (no definitions yet).
 */
import type pg from 'pg';
import type { FlagDefinition, Segment } from '../../../packages/provider/src/definition.ts';
import type { JsonValue } from '../config/model.ts';
import type { Stage } from '../stages/ladder.ts';
import { HAS_DEFINITION_COLUMNS } from './definitions-sql.ts';

export const DEFAULT_FLAG_TABLE = 'rollout.flags';

export interface LiveFlag {
  /**
   * What the flag is live: its defined value (what units in the rollout get), or a break-glass
   * override when one is set; for a flag without a stored definition, the value table's.
   */
  value: JsonValue;
  /** The value as the database returns it (canonical for a jsonb column): the plan hash uses it as is. */
  text?: string;
  /** What the value table holds (what a plain read returns), when it has a row for the flag. */
  stored?: { value: JsonValue; text: string };
}

/** The serving part of a stored definition (rollout.flag_rollouts' serving columns). */
export interface LiveDefinition {
  value: JsonValue;
  offValue: JsonValue | null;
  segments: Segment[];
  killSwitch: boolean;
  override?: JsonValue;
  valueText: string;
  overrideText?: string;
  /** The serving columns as the database returns them, for the plan hash. */
  text: string;
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
  /** Absent on a row an older version wrote: the next apply plans its definition. */
  definition?: LiveDefinition;
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
  const { rows: present } = await client.query<{ flags: boolean; rollouts: boolean; serving: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS flags, to_regclass($2) IS NOT NULL AS rollouts, ${HAS_DEFINITION_COLUMNS} AS serving`,
    [quoteTable(table), 'rollout.flag_rollouts'],
  );
  const state: LiveState = { flagTable: table, flagTableExists: Boolean(present[0]?.flags), flags: new Map(), rollouts: new Map() };
  const stored = new Map<string, { value: JsonValue; text: string }>();
  if (state.flagTableExists) {
    // value::text and JSON.parse: pg would parse jsonb too, but this keeps big numbers' text stable.
    const { rows } = await client.query<{ key: string; value: string }>(`SELECT key, value::text AS value FROM ${quoteTable(table)}`);
    for (const row of rows) stored.set(row.key, { value: JSON.parse(row.value) as JsonValue, text: row.value });
  }
  if (present[0]?.rollouts) {
    const serving = present[0].serving
      ? ', value::text AS value, off_value::text AS off_value, segments::text AS segments, kill_switch, override::text AS override'
      : '';
    const { rows } = await client.query<RolloutRow>(
      `SELECT key, stage, percent::text AS percent, stage_since, recorded_value::text AS recorded_value, recorded_kind, ledger_id::text AS ledger_id${serving} FROM rollout.flag_rollouts`,
    );
    for (const row of rows) {
      const parse = sameFlagParser(stored.get(row.key));
      const definition = definitionOf(row, parse);
      state.rollouts.set(row.key, {
        stage: row.stage,
        percent: row.percent === null ? null : Number(row.percent),
        stageSince: row.stage_since,
        recordedValue: row.recorded_value === null ? null : parse(row.recorded_value),
        recordedText: row.recorded_value,
        recordedKind: row.recorded_kind,
        ledgerId: Number(row.ledger_id),
        ...(definition ? { definition } : {}),
      });
    }
  }
  for (const [key, plain] of stored) {
    const definition = state.rollouts.get(key)?.definition;
    if (!definition) state.flags.set(key, { value: plain.value, text: plain.text, stored: plain });
  }
  for (const [key, rollout] of state.rollouts) {
    const definition = rollout.definition;
    if (!definition) continue;
    const plain = stored.get(key);
    const live = definition.override !== undefined ? { value: definition.override, text: definition.overrideText } : { value: definition.value, text: definition.valueText };
    state.flags.set(key, { ...live, ...(plain ? { stored: plain } : {}) });
  }
  return state;
}

interface RolloutRow {
  key: string;
  stage: Stage | null;
  percent: string | null;
  stage_since: Date | null;
  recorded_value: string | null;
  recorded_kind: string;
  ledger_id: string;
  value?: string | null;
  off_value?: string | null;
  segments?: string | null;
  kill_switch?: boolean | null;
  override?: string | null;
}

/**
 * JSON.parse for one flag's columns. A flag mostly holds one value several times (the value
 * table's value is the one rollout recorded; a plain flag's off value is its value): the same
 * text gives the same parsed object, once. At 10,000 flags that is most of the parsing and of
 * the garbage it leaves. Nothing changes a live value after it is read, so sharing is safe.
 */
function sameFlagParser(seed: { value: JsonValue; text: string } | undefined): (text: string) => JsonValue {
  const texts: string[] = seed ? [seed.text] : [];
  const values: JsonValue[] = seed ? [seed.value] : [];
  return (text) => {
    const i = texts.indexOf(text);
    if (i >= 0) return values[i];
    const value = JSON.parse(text) as JsonValue;
    texts.push(text);
    values.push(value);
    return value;
  };
}

function definitionOf(row: RolloutRow, parse: (text: string) => JsonValue): LiveDefinition | undefined {
  if (row.value === undefined || row.value === null) return undefined;
  return {
    value: parse(row.value),
    offValue: row.off_value === null || row.off_value === undefined ? null : parse(row.off_value),
    segments: row.segments && row.segments !== '[]' ? (JSON.parse(row.segments) as Segment[]) : [],
    killSwitch: row.kill_switch === true,
    ...(row.override !== null && row.override !== undefined ? { override: parse(row.override), overrideText: row.override } : {}),
    valueText: row.value,
    text: [row.value, row.off_value ?? '-', row.segments ?? '-', String(row.kill_switch), row.override ?? '-'].join('\t'),
  };
}

/**
 * What a flag serves now, as the view rollout.flag_definitions gives it (a missing off value
 * is the value only for a plain flag). A row an older version wrote has no definition: the
 * value table's value is what every reader got. undefined: no such flag.
 */
export function liveDefinitionOf(key: string, state: LiveState): FlagDefinition | undefined {
  const have = state.flags.get(key);
  if (!have) return undefined;
  const rollout = state.rollouts.get(key);
  const d = rollout?.definition;
  if (!rollout || !d) {
    const served = have.stored?.value ?? have.value;
    return { key, value: served, offValue: served, stage: null, percent: 0, segments: [], killSwitch: false, ledgerId: null };
  }
  return {
    key,
    value: d.value,
    offValue: d.offValue ?? (rollout.stage === null ? d.value : null),
    stage: rollout.stage,
    percent: rollout.stage === 'canary' ? (rollout.percent ?? 0) : 0,
    segments: d.segments,
    killSwitch: d.killSwitch,
    ...(d.override !== undefined ? { override: d.override } : {}),
    ledgerId: rollout.ledgerId,
  };
}
