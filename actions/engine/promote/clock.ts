/**
 * The clock the gates read. ROLLOUT_NOW (an ISO time) replaces the wall clock, for tests
 * and dry runs ("would this promotion pass on Friday?"). Soaks are measured from
 * stage_since, which the database stamps with its own clock when a position changes,
 * so ROLLOUT_NOW is only meaningful at or after the real time of the last apply.
 */
import { UsageError } from '../errors.ts';

export const NOW_VARIABLE = 'ROLLOUT_NOW';

export function clockFrom(env: NodeJS.ProcessEnv): Date {
  const text = env[NOW_VARIABLE]?.trim();
  if (!text) return new Date();
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    throw new UsageError(`Invalid ${NOW_VARIABLE} '${text.slice(0, 40)}'. Expected an ISO time with a zone, like 2026-11-20T10:00:00Z (or unset it to use the real clock).`);
  }
  return at;
}
