/**
 * What a unit sees: the one rule every reader follows (the SQL function rollout.evaluate,
 * the OpenFeature provider, the flagd definitions export, and the plan's blast radius).
 *
 *   break-glass override   everyone gets the override                      STATIC
 *   plain flag (no stage)  everyone gets value                             STATIC
 *   off                    everyone gets the off value                     DISABLED
 *   dark                   units in the flag's segments get value,         TARGETING_MATCH
 *                          everyone else the off value                     DEFAULT
 *   shadow                 everyone gets the off value; value rides along  STATIC
 *                          as shadowValue, for comparison
 *   canary p               units in the flag's segments get value,         TARGETING_MATCH
 *                          units bucketed under p get value,               SPLIT
 *                          everyone else the off value                     SPLIT (DEFAULT without a targeting key)
 *   full                   everyone gets value                             STATIC
 *
 * Pure and total: no I/O, never throws for any definition parseDefinition accepts.
 */
import { bucketOf } from './bucket.ts';
import type { FlagDefinition, JsonValue, Segment } from './definition.ts';

/** What is known about the unit a flag is evaluated for (OpenFeature's evaluation context). */
export interface UnitContext {
  /** The unit's id: a user, account, device or request. */
  targetingKey?: string;
  /** Anything else about the unit, matched by segments' attributes. */
  [attribute: string]: unknown;
}

/** on: the rollout's value; off: the off value; break-glass: a kill switch's override. */
export type Variant = 'on' | 'off' | 'break-glass';
export type Reason = 'STATIC' | 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT';

export interface Resolution {
  value: JsonValue;
  variant: Variant;
  reason: Reason;
  /** shadow: the value the unit would get once rolled out, for comparison; never served. */
  shadowValue?: JsonValue;
  /** The segment that put the unit in the rollout, when one did. */
  segment?: string;
}

const on = (d: FlagDefinition, reason: Reason, segment?: string): Resolution => ({ value: d.value, variant: 'on', reason, ...(segment ? { segment } : {}) });
const off = (d: FlagDefinition, reason: Reason): Resolution => ({ value: d.offValue, variant: 'off', reason });

export function evaluate(definition: FlagDefinition, unit: UnitContext = {}): Resolution {
  if (definition.override !== undefined) return { value: definition.override, variant: 'break-glass', reason: 'STATIC' };
  switch (definition.stage) {
    case null:
    case 'full':
      return on(definition, 'STATIC');
    case 'off':
      return off(definition, 'DISABLED');
    case 'shadow':
      return { ...off(definition, 'STATIC'), shadowValue: definition.value };
    case 'dark': {
      const segment = matchingSegment(definition.segments, unit);
      return segment ? on(definition, 'TARGETING_MATCH', segment) : off(definition, 'DEFAULT');
    }
    case 'canary': {
      const segment = matchingSegment(definition.segments, unit);
      if (segment) return on(definition, 'TARGETING_MATCH', segment);
      const key = unit.targetingKey;
      if (typeof key !== 'string') return off(definition, 'DEFAULT');
      return bucketOf(definition.key, key) < Math.round(definition.percent * 100) ? on(definition, 'SPLIT') : off(definition, 'SPLIT');
    }
  }
}

/** The name of the first segment the unit is in, if any. */
export function matchingSegment(segments: readonly Segment[], unit: UnitContext): string | undefined {
  for (const segment of segments) if (inSegment(segment, unit)) return segment.name;
  return undefined;
}

export function inSegment(segment: Segment, unit: UnitContext): boolean {
  const key = unit.targetingKey;
  if (typeof key === 'string' && segment.keys?.includes(key)) return true;
  const attributes = segment.attributes ? Object.entries(segment.attributes) : [];
  if (attributes.length === 0) return false;
  return attributes.every(([name, allowed]) => {
    const actual = unit[name];
    return (typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean') && allowed.includes(actual);
  });
}
