/**
 * `when_flag`: whether a check runs, from what the flag is live. Two readings:
 *
 * - by value (`equals:`, or no condition at all): what the value table holds, i.e. what a
 *   plain read of the flag returns. Below `full` that is the off value, so for an object
 *   payload ("scoring: {version: none, total: 0}") "is the flag on?" cannot be told from it.
 * - by stage (`variant: on | off`): what every unit is served, by the one rule every reader
 *   follows (packages/provider/src/rule.ts). `on`: everyone gets `value` (a plain flag or a
 *   kill switch, or `full`); `off`: everyone gets the off value (`off`, `shadow`). At `dark`
 *   and `canary` some units get each, so neither holds: a check of "every new plan is scored"
 *   or "no new plan is scored" would be wrong either way there. A break-glass override counts
 *   as `on` or `off` when it equals the value or the off value, since that is what it serves.
 */
import equal from 'fast-deep-equal';
import type { FlagDefinition } from '../../../packages/provider/src/definition.ts';
import { evaluate } from '../../../packages/provider/src/rule.ts';
import { valueIsOn } from '../config/flag-on.ts';
import type { JsonValue } from '../config/model.ts';

export type FlagVariant = 'on' | 'off';

export interface FlagCondition {
  key: string;
  equals?: JsonValue;
  variant?: FlagVariant;
}

export interface LiveFlagView {
  /** What the value table holds, by key. */
  values: ReadonlyMap<string, JsonValue>;
  /** The live definitions (rollout.flag_definitions), by key; needed by `variant:` conditions. */
  definitions?: ReadonlyMap<string, FlagDefinition>;
}

/** What every unit is served, or undefined when it depends on the unit (dark, canary). */
export function servedToEveryone(definition: FlagDefinition): FlagVariant | 'other' | undefined {
  if (definition.override === undefined && (definition.stage === 'dark' || definition.stage === 'canary')) return undefined;
  // Unit-independent from here on: any unit's resolution is everyone's.
  const served = evaluate(definition);
  if (served.variant === 'on') return 'on';
  if (served.variant === 'off') return 'off';
  if (equal(served.value, definition.value)) return 'on';
  // A plain flag's off value is its value: only a flag with a rollout has an off value to serve.
  if (definition.stage !== null && equal(served.value, definition.offValue)) return 'off';
  return 'other';
}

export function conditionHolds(condition: FlagCondition, live: LiveFlagView): boolean {
  if (condition.variant !== undefined) {
    const definition = live.definitions?.get(condition.key);
    return definition !== undefined && servedToEveryone(definition) === condition.variant;
  }
  const value = live.values.get(condition.key);
  if ('equals' in condition) return value !== undefined && equal(value, condition.equals);
  return valueIsOn(value);
}

/** Why a check was skipped: the condition, and what is live instead. */
export function unmetDetail(condition: FlagCondition, live: LiveFlagView): string {
  if (condition.variant !== undefined) {
    const definition = live.definitions?.get(condition.key);
    const wanted = condition.variant === 'on' ? 'serves its value to every unit' : 'serves its off value to every unit';
    return `skipped: runs only while flag ${condition.key} ${wanted} (variant ${condition.variant}); live: ${definition ? describeServing(definition) : 'no such flag'}`;
  }
  const value = live.values.get(condition.key);
  return `skipped: runs only when flag ${condition.key} ${'equals' in condition ? `is ${JSON.stringify(condition.equals)}` : 'is on'}; live value is ${value === undefined ? 'unset' : JSON.stringify(value)}`;
}

function describeServing(d: FlagDefinition): string {
  if (d.override !== undefined) return `held by break-glass at ${JSON.stringify(d.override)}`;
  if (d.stage === null) return 'a plain flag (every unit gets its value)';
  if (d.stage === 'dark') return 'at dark (units in its segments get the value, the others the off value)';
  if (d.stage === 'canary') return `at canary ${d.percent}% (some units get the value, the others the off value)`;
  return `at ${d.stage}`;
}
