/**
 * The clock the gates read. ROLLOUT_NOW (an ISO time) replaces the wall clock for plan,
 * promote dry runs and tests ("would this promotion pass on Friday?"). Soaks are measured
 * from stage_since, which the database stamps with its own clock when a position changes,
 * so ROLLOUT_NOW is only meaningful at or after the real time of the last apply.
 *
 * Only the CLI reads these variables (the engine is handed a Date; the GitHub actions always
 * pass the real clock). A moved clock would let `apply` skip every soak gate, so apply
 * refuses ROLLOUT_NOW unless ROLLOUT_TEST_CLOCK=1 says the run is a test.
 */
import { UsageError } from '../errors.ts';

export const NOW_VARIABLE = 'ROLLOUT_NOW';
/** The test-only switch that lets `apply` run on a moved clock. */
export const TEST_CLOCK_VARIABLE = 'ROLLOUT_TEST_CLOCK';

export function clockFrom(env: NodeJS.ProcessEnv): Date {
  const text = env[NOW_VARIABLE]?.trim();
  if (!text) return new Date();
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    throw new UsageError(`Invalid ${NOW_VARIABLE} '${text.slice(0, 40)}'. Expected an ISO time with a zone, like 2026-11-20T10:00:00Z (or unset it to use the real clock).`);
  }
  return at;
}

/** The clock for a command that writes live state: the real one, or ROLLOUT_NOW in a test run only. */
export function applyClockFrom(env: NodeJS.ProcessEnv): Date {
  if (env[NOW_VARIABLE]?.trim() && env[TEST_CLOCK_VARIABLE] !== '1') {
    throw new UsageError(
      `${NOW_VARIABLE} is set, and apply refuses a moved clock: it would skip every soak gate. Unset ${NOW_VARIABLE} (it moves the clock for plan, promote and dry runs only), or set ${TEST_CLOCK_VARIABLE}=1 in a test.`,
    );
  }
  return clockFrom(env);
}
