/**
 * Flag definitions → a flagd flag-definitions document (https://flagd.dev/schema/v0/flags.json),
 * so that flagd, and every flagd in-process or file provider in every language, serves each
 * unit what rule.ts serves it. Pure: the CLI reads the definitions and writes the file.
 *
 *   variants        on = value, off = off value, break-glass = the override (when tripped)
 *   defaultVariant  on for a plain flag and full; break-glass when overridden; off otherwise
 *   targeting       dark    {"if": [in a segment, "on", null]}   (false for no segment: nobody)
 *                   canary  {"if": [in a segment, "on", {"fractional": [["on", T], ["off", 10000 − T]]}]}
 *                           with T = round(percent × 100); without segments the fractional alone
 *   metadata        stage, percent, ledgerId, killSwitch; shadowValue (JSON text) in shadow
 *
 * `null` as the else branch makes flagd fall back to defaultVariant (off) with reason DEFAULT,
 * as the rule does. `fractional` without a bucketing expression hashes flagKey + targetingKey
 * (flagd's fractional v2, the same bucket as bucket.ts); without a targeting key it yields
 * null, so the unit gets off with reason DEFAULT, as the rule does. A segment is
 * {"in": [{"var": "targetingKey"}, keys]} or-ed with, for attributes, the and of
 * {"in": [{"var": name}, values]} — JSON Logic's `in` on an array is strict membership.
 * flagd names reasons its own way: docs/flagd.md maps them.
 */
import type { FlagDefinition, JsonValue, Segment } from '../../../packages/provider/src/definition.ts';
import { BUCKETS, rolloutThreshold } from '../../../packages/provider/src/bucket.ts';

export const FLAGD_SCHEMA_URL = 'https://flagd.dev/schema/v0/flags.json';

type JsonLogic = JsonValue;

export interface FlagdFlag {
  state: 'ENABLED';
  variants: Record<string, JsonValue>;
  defaultVariant: string;
  targeting?: JsonLogic;
  metadata: Record<string, string | number | boolean>;
}

export interface FlagdDocument {
  $schema: string;
  metadata?: Record<string, string | number | boolean>;
  flags: Record<string, FlagdFlag>;
}

/** A definition flagd cannot express, with what to change. */
export interface FlagdProblem {
  key: string;
  problem: string;
}

export interface FlagdExport {
  document: FlagdDocument;
  problems: FlagdProblem[];
}

export interface FlagdExportOptions {
  /** Written to the flag set's metadata (flagd providers expose it as provider metadata). */
  environment?: string;
}

type VariantType = 'boolean' | 'string' | 'number' | 'object';

function variantType(value: JsonValue): VariantType | undefined {
  if (typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number') return typeof value as VariantType;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? 'object' : undefined;
}

const describeType = (value: JsonValue): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

export function toFlagd(definitions: readonly FlagDefinition[], options: FlagdExportOptions = {}): FlagdExport {
  const flags: Record<string, FlagdFlag> = {};
  const problems: FlagdProblem[] = [];
  for (const definition of [...definitions].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const converted = toFlagdFlag(definition);
    if ('problem' in converted) problems.push(converted);
    else flags[definition.key] = converted;
  }
  const document: FlagdDocument = { $schema: FLAGD_SCHEMA_URL, ...(options.environment ? { metadata: { environment: options.environment } } : {}), flags };
  return { document, problems };
}

export function toFlagdFlag(definition: FlagDefinition): FlagdFlag | FlagdProblem {
  const { key } = definition;
  const fail = (problem: string): FlagdProblem => ({ key, problem });
  const variants: Record<string, JsonValue> = { on: definition.value, off: definition.offValue };
  if (definition.override !== undefined) variants['break-glass'] = definition.override;
  const type = variantType(definition.value);
  if (type === undefined) return fail(`value is ${describeType(definition.value)}; flagd variants are booleans, strings, numbers or objects. Wrap it in an object, e.g. { items: [...] }.`);
  for (const [name, value] of Object.entries(variants)) {
    if (variantType(value) !== type) {
      const what = name === 'off' ? 'off_value' : name === 'break-glass' ? 'the break-glass value' : 'value';
      return fail(`${what} is ${describeType(value)} but value is ${describeType(definition.value)}; flagd needs one type for every variant of a flag. Give ${what} the type of value.`);
    }
  }
  const metadata: FlagdFlag['metadata'] = { percent: definition.percent, killSwitch: definition.killSwitch };
  if (definition.stage !== null) metadata.stage = definition.stage;
  if (definition.ledgerId !== null) metadata.ledgerId = definition.ledgerId;
  const flag = (defaultVariant: string, targeting?: JsonLogic): FlagdFlag => ({ state: 'ENABLED', variants, defaultVariant, ...(targeting !== undefined ? { targeting } : {}), metadata });

  if (definition.override !== undefined) return flag('break-glass');
  switch (definition.stage) {
    case null:
    case 'full':
      return flag('on');
    case 'off':
      return flag('off');
    case 'shadow':
      metadata.shadowValue = JSON.stringify(definition.value);
      return flag('off');
    case 'dark':
    case 'canary': {
      const inSegment = segmentsCondition(definition.segments);
      if (typeof inSegment === 'string') return fail(inSegment);
      // dark with no segment serves nobody; the always-false condition keeps flagd's reason DEFAULT, as the rule's.
      if (definition.stage === 'dark') return flag('off', { if: [inSegment ?? false, 'on', null] });
      let threshold: number;
      try {
        threshold = rolloutThreshold(definition.percent);
      } catch (error) {
        return fail((error as Error).message);
      }
      const split: JsonLogic = { fractional: [['on', threshold], ['off', BUCKETS - threshold]] };
      return flag('off', inSegment === undefined ? split : { if: [inSegment, 'on', split] });
    }
  }
}

/** JSON Logic that is true when the unit is in any of the segments; undefined for none; a string says why not. */
function segmentsCondition(segments: readonly Segment[]): JsonLogic | undefined | string {
  const conditions: JsonLogic[] = [];
  for (const segment of segments) {
    const parts: JsonLogic[] = [];
    if (segment.keys && segment.keys.length > 0) parts.push({ in: [{ var: 'targetingKey' }, [...segment.keys]] });
    const attributes = Object.entries(segment.attributes ?? {});
    for (const [name] of attributes) {
      // JSON Logic reads a dot in a variable name as a path (user.email → user → email).
      if (name === '' || name.includes('.') || name.includes('\\')) {
        return `segment '${segment.name}' matches attribute '${name}', which flagd cannot look up (JSON Logic reads '.' as a path). Rename the attribute without '.' or '\\'.`;
      }
    }
    if (attributes.length > 0) {
      const matches: JsonLogic[] = attributes.map(([name, values]) => ({ in: [{ var: name }, [...values]] }));
      parts.push(matches.length === 1 ? matches[0] : { and: matches });
    }
    if (parts.length > 0) conditions.push(parts.length === 1 ? parts[0] : { or: parts });
  }
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { or: conditions };
}
