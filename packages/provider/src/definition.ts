/**
 * A flag definition: everything a service needs to decide what one unit gets, as rollout
 * writes it to rollout.flag_definitions on every apply, revert and break-glass action.
 * The row is read by SQL (rollout.evaluate), by this package's provider, and exported as
 * flagd flag definitions; evaluate() in rule.ts is the one rule all of them follow.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Scalar = string | number | boolean;

export const STAGES = ['off', 'dark', 'shadow', 'canary', 'full'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * A named set of units. A unit is in the segment when its targeting key is one of `keys`,
 * or when `attributes` is given and every attribute named there has one of the listed values
 * in the unit's evaluation context (strict equality; a missing attribute never matches).
 */
export interface Segment {
  name: string;
  keys?: readonly string[];
  attributes?: Readonly<Record<string, readonly Scalar[]>>;
}

export interface FlagDefinition {
  key: string;
  /** What units in the rollout get: the value Git gives the flag. */
  value: JsonValue;
  /** What every unit outside the rollout gets. Equal to `value` for a flag without a rollout. */
  offValue: JsonValue;
  /** How far the rollout has gone; null for a plain flag (everyone gets `value`). */
  stage: Stage | null;
  /** canary: share of units (0 … 100, resolution 0.01) bucketed into the rollout. 0 otherwise. */
  percent: number;
  /** dark and canary: units in any of these segments are in the rollout whatever their bucket. */
  segments: readonly Segment[];
  /** Set by break-glass on a kill switch: every unit gets this, whatever the stage. */
  override?: JsonValue;
  killSwitch: boolean;
  /** The ledger entry that wrote this definition. */
  ledgerId: number | null;
}

/** rollout.flag_definitions as a row (snake_case, jsonb columns already parsed by the driver). */
export interface DefinitionRow {
  key: string;
  value: unknown;
  off_value: unknown;
  stage: string | null;
  percent: string | number | null;
  segments: unknown;
  override: unknown;
  kill_switch: boolean;
  ledger_id: string | number | null;
}

/** A row that could not be read as a definition, with why (served as an error for that flag only). */
export interface DefinitionProblem {
  key: string;
  problem: string;
}

const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function parseSegment(raw: unknown, where: string): Segment | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${where} is not an object`;
  const record = raw as Record<string, unknown>;
  if (typeof record.name !== 'string' || record.name === '') return `${where} has no name`;
  const segment: { name: string; keys?: string[]; attributes?: Record<string, Scalar[]> } = { name: record.name };
  if (record.keys !== undefined && record.keys !== null) {
    if (!Array.isArray(record.keys) || !record.keys.every((k) => typeof k === 'string')) return `${where}.keys is not a list of strings`;
    segment.keys = record.keys;
  }
  if (record.attributes !== undefined && record.attributes !== null) {
    if (typeof record.attributes !== 'object' || Array.isArray(record.attributes)) return `${where}.attributes is not an object`;
    const attributes: Record<string, Scalar[]> = {};
    for (const [name, values] of Object.entries(record.attributes as Record<string, unknown>)) {
      const list = Array.isArray(values) ? values : [values];
      if (list.length === 0 || !list.every(isScalar)) return `${where}.attributes.${name} is not a list of strings, numbers or booleans`;
      attributes[name] = list;
    }
    segment.attributes = attributes;
  }
  return segment;
}

/** Read one row of rollout.flag_definitions; a row that breaks the format is a problem, not a throw. */
export function parseDefinition(row: DefinitionRow): FlagDefinition | DefinitionProblem {
  const key = row.key;
  const fail = (problem: string): DefinitionProblem => ({ key, problem: `definition of ${key} cannot be read: ${problem}` });
  if (row.value === undefined) return fail('value is missing');
  if (row.off_value === undefined) return fail('off_value is missing');
  let stage: Stage | null = null;
  if (row.stage !== null && row.stage !== undefined) {
    if (!(STAGES as readonly string[]).includes(row.stage)) return fail(`unknown stage '${row.stage}'`);
    stage = row.stage as Stage;
  }
  const percent = row.percent === null || row.percent === undefined ? 0 : Number(row.percent);
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) return fail(`percent '${String(row.percent)}' is not in 0 … 100`);
  const segments: Segment[] = [];
  if (row.segments !== null && row.segments !== undefined) {
    if (!Array.isArray(row.segments)) return fail('segments is not a list');
    for (const [i, raw] of row.segments.entries()) {
      const segment = parseSegment(raw, `segments[${i}]`);
      if (typeof segment === 'string') return fail(segment);
      segments.push(segment);
    }
  }
  return {
    key,
    value: row.value as JsonValue,
    offValue: row.off_value as JsonValue,
    stage,
    percent,
    segments,
    ...(row.override !== null && row.override !== undefined ? { override: row.override as JsonValue } : {}),
    killSwitch: Boolean(row.kill_switch),
    ledgerId: row.ledger_id === null || row.ledger_id === undefined ? null : Number(row.ledger_id),
  };
}

export const isProblem = (d: FlagDefinition | DefinitionProblem): d is DefinitionProblem => 'problem' in d;
