/**
 * When a flag's value counts as on: the one definition behind a dependency's "is it on?"
 * (stage gates) and when_flag's (checks). Off: missing, false, null, or an object with an
 * `enabled` member that is not true ({enabled: false}, {enabled: null}): where a value says
 * whether it is enabled, only `true` enables, so a half-written value never lets a dependent
 * move forward or a check run as though the feature were live. Anything else is on.
 */
import type { JsonValue } from './model.ts';

export function valueIsOn(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'object' && !Array.isArray(value) && 'enabled' in value) return value.enabled === true;
  return true;
}
