/**
 * The health workflow's schedule follows the shortest monitor cadence (`every`): `health`
 * measures every monitor on each run, so a schedule slower than a monitor's `every` leaves
 * gaps in its measurements, and the exit-criteria gate refuses a window with gaps. A
 * workflow file is static text, so the cadence cannot set it at run time: `rollout init`
 * writes the cron this module derives, and `rollout validate` warns, with the cron to use,
 * when monitors changed and the schedule no longer keeps up. Pure.
 */
import { DEFAULT_MONITOR_EVERY_MS, monitorCadence } from '../config/exit-criteria.ts';
import type { Environment } from '../config/model.ts';

const MINUTE = 60_000;
const DAY_MINUTES = 24 * 60;

/** GitHub Actions runs a schedule at most every 5 minutes. */
export const GITHUB_MIN_SCHEDULE_MS = 5 * MINUTE;

export interface Cadence {
  everyMs: number;
  monitor?: string;
  environment?: string;
  /** Index of the monitor in its environment's monitors list. */
  index?: number;
}

/** The shortest `every` of all monitors (the default cadence when no monitor sets one, or there are none). */
export function shortestCadence(environments: readonly Environment[]): Cadence {
  let shortest: Cadence = { everyMs: DEFAULT_MONITOR_EVERY_MS };
  for (const env of environments) {
    env.monitors.forEach((monitor, index) => {
      const { everyMs } = monitorCadence(monitor);
      if (everyMs < shortest.everyMs || (shortest.monitor === undefined && everyMs === shortest.everyMs && monitor.every !== undefined)) {
        shortest = { everyMs, monitor: monitor.name, environment: env.name, index };
      }
    });
  }
  return shortest;
}

/** Intervals a cron expresses with a step that divides the hour or the day evenly (so every gap is the same). */
const MINUTE_STEPS = [5, 6, 10, 12, 15, 20, 30];
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12];

/**
 * The cron that runs at least as often as `everyMs` (never slower: a gap is worse than an
 * extra measurement), from GitHub's 5 minutes up to once a day. `minute` offsets runs of an
 * hour or more from the top of the hour, when GitHub's queue is longest.
 */
export function cronFor(everyMs: number, minute = 7): { cron: string; intervalMs: number } {
  const minutes = Math.max(Math.floor(everyMs / MINUTE), GITHUB_MIN_SCHEDULE_MS / MINUTE);
  if (minutes < 60) {
    const step = [...MINUTE_STEPS].reverse().find((s) => s <= minutes) ?? 5;
    return { cron: `*/${step} * * * *`, intervalMs: step * MINUTE };
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const step = [...HOUR_STEPS].reverse().find((s) => s <= hours) ?? 1;
    return { cron: step === 1 ? `${minute} * * * *` : `${minute} */${step} * * *`, intervalMs: step * 60 * MINUTE };
  }
  return { cron: `${minute} 3 * * *`, intervalMs: DAY_MINUTES * MINUTE };
}

/**
 * The longest time between two runs of these crons (GitHub's five-field syntax, UTC), or
 * undefined when one cannot be read. Only minute and hour are expanded; a cron restricted to
 * some days of the month or week has gaps of at least a day, and says so by returning Infinity.
 */
export function longestGapMs(crons: readonly string[]): number | undefined {
  const runs = new Set<number>();
  for (const cron of crons) {
    const fields = cron.trim().split(/\s+/);
    if (fields.length !== 5) return undefined;
    const [minuteField, hourField, ...days] = fields;
    const minutes = expand(minuteField, 0, 59);
    const hours = expand(hourField, 0, 23);
    if (!minutes || !hours) return undefined;
    if (days.some((d) => d !== '*' && d !== '?')) return Infinity;
    for (const h of hours) for (const m of minutes) runs.add(h * 60 + m);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  let gap = sorted[0] + DAY_MINUTES - sorted[sorted.length - 1];
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i] - sorted[i - 1]);
  return gap * MINUTE;
}

/** The values of one cron field: `*`, `n`, `a-b`, `*\/s`, `a-b/s` and lists of those. */
function expand(field: string, low: number, high: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const from = match[1] === '*' ? low : Number(match[2]);
    const to = match[1] === '*' ? high : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? high : from;
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (from < low || to > high || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values];
}
