/**
 * Git's flag definitions: what every unit is to be served, resolved from an environment
 * file (off values, segment names → their members). Pure. The flag writer stores them
 * (rollout.flag_definitions), `rollout export --desired` renders them, and the plan
 * compares them with the live ones; evaluate() in packages/provider/src/rule.ts reads them.
 */
import type { FlagDefinition, Segment } from '../../../packages/provider/src/definition.ts';
import equal from 'fast-deep-equal';
import type { Environment, FlagSpec, JsonValue } from '../config/model.ts';

export type { FlagDefinition, Segment };

/** What Git says about serving beyond the value and the position: stored beside them. */
export interface ServingSpec {
  offValue: JsonValue;
  /** The segments the rollout names, with their members, in the order named. */
  segments: Segment[];
  killSwitch: boolean;
}

/** The serving part of one flag of an environment. */
export function servingOf(env: Pick<Environment, 'segments'>, flag: FlagSpec): ServingSpec {
  const named = flag.rollout?.segments;
  // validate refuses unknown names; a name still missing here (a hand-built model) names nobody.
  // Most flags name none: no flatMap for them (the planner calls this for every flag).
  const segments = named === undefined || named.length === 0 ? [] : named.flatMap((name) => {
    const segment = env.segments?.get(name);
    return segment ? [segment] : [];
  });
  // A plain flag serves value to everyone: its off value is value. A staged flag without one
  // (only a hand-built model; validate requires it) serves null rather than value.
  const offValue = flag.rollout ? (flag.offValue ?? null) : flag.value;
  return { offValue, segments, killSwitch: flag.killSwitch };
}

export function desiredDefinition(env: Pick<Environment, 'segments'>, flag: FlagSpec): FlagDefinition {
  const serving = servingOf(env, flag);
  const stage = flag.rollout?.stage ?? null;
  return {
    key: flag.key,
    value: flag.value,
    offValue: serving.offValue,
    stage,
    percent: stage === 'canary' ? (flag.rollout?.percent ?? 0) : 0,
    segments: serving.segments,
    killSwitch: serving.killSwitch,
    ledgerId: null,
  };
}

/** Every flag of the environment, sorted by key. */
export function desiredDefinitions(env: Pick<Environment, 'segments' | 'flags'>): FlagDefinition[] {
  return [...env.flags.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((flag) => desiredDefinition(env, flag));
}

/**
 * What a plain read of the value table returns (`SELECT value FROM flags WHERE key = …`):
 * never more than the stage allows. Until a flag is full that is what units outside the
 * rollout get; a break-glass override when one is set; a plain flag's value.
 * rollout.plain_value() in SQL (store/definitions-sql.ts) is the same rule.
 */
export function plainValue(definition: Pick<FlagDefinition, 'value' | 'offValue' | 'stage' | 'override'>): JsonValue {
  if (definition.override !== undefined) return definition.override;
  return definition.stage === null || definition.stage === 'full' ? definition.value : definition.offValue;
}

/**
 * Whether every unit is served `wanted`, whoever it is: the override when one is set; else value
 * once full (or for a plain flag), the off value at off and shadow, and both at dark and canary
 * (units outside the rollout, and those without a targeting key, get the off value). A staged
 * kill switch is tripped, or reconciled, only when this holds for its break-glass value.
 */
export function servesEveryUnit(definition: Pick<FlagDefinition, 'value' | 'offValue' | 'stage' | 'override'>, wanted: JsonValue): boolean {
  if (definition.override !== undefined) return equal(definition.override, wanted);
  switch (definition.stage) {
    case null:
    case 'full':
      return equal(definition.value, wanted);
    case 'off':
    case 'shadow':
      return equal(definition.offValue, wanted);
    default:
      return equal(definition.value, wanted) && equal(definition.offValue, wanted);
  }
}
