/**
 * Exit criteria as files write them, and as the gate and `health` need them:
 *
 *   exit_criteria:                 # top level: every flag with a rollout
 *     all: [SLO burn rate]
 *   flags:
 *     ranker.policy:
 *       rollout: { stage: canary, percent: 5 }
 *       exit_criteria: { canary: [queue p95 age], rollback_to: off }
 *
 * A flag at a stage is judged on the union of the environment's and its own lists for that
 * stage and for `all`. Names are monitor names of the same file; a name that is not one is an
 * error with its position and the closest name. The monitor fields the gate reads (`every`,
 * `during`) are parsed here too, so that the planner and `health` read them the same way.
 */
import type { Stage } from '../stages/ladder.ts';
import { parseDuration } from './duration.ts';
import type { Environment, ExitCriteriaSpec, MonitorSpec } from './model.ts';
import type { Problem } from '../problems.ts';
import { clip } from './schema-errors.ts';
import { suggestion } from './suggest.ts';
import type { PathToken } from './yaml-source.ts';

/** The stages whose criteria gate the next rung (full has none to gate). */
export const CRITERIA_STAGES = ['dark', 'shadow', 'canary'] as const;
export type CriteriaStage = (typeof CRITERIA_STAGES)[number];
/**
 * `full:` is a watch, not a gate: there is no forward move from full, so its monitors only
 * roll the flag back when they breach after the move (within their `during`, when they say).
 * `all:` stays "every stage below full": a watch at full is asked for by name.
 */
const WATCH_STAGES = [...CRITERIA_STAGES, 'full'] as const;
type WatchStage = (typeof WATCH_STAGES)[number];
const LIST_KEYS = [...WATCH_STAGES, 'all'] as const;

/** How often a monitor is measured when it does not say (the health workflow's schedule). */
export const DEFAULT_MONITOR_EVERY_MS = 15 * 60_000;

export interface Criterion {
  monitor: string;
  /** The monitor's cadence: two of these without a measurement is a gap. */
  everyMs: number;
  /** Watched only this long after the flag entered its position. */
  duringMs?: number;
}

export interface ResolvedCriteria {
  criteria: Criterion[];
  rollbackTo: 'previous' | 'off';
}

export function toExitCriteria(raw: unknown): ExitCriteriaSpec {
  const spec = raw as Record<string, unknown>;
  const out: ExitCriteriaSpec = {};
  for (const key of LIST_KEYS) if (Array.isArray(spec[key])) out[key] = spec[key] as string[];
  if (spec.rollback_to === 'previous' || spec.rollback_to === 'off') out.rollbackTo = spec.rollback_to;
  return out;
}

export function monitorCadence(spec: MonitorSpec): { everyMs: number; duringMs?: number } {
  const every = typeof spec.every === 'string' ? parseDuration(spec.every) : undefined;
  const during = typeof spec.during === 'string' ? parseDuration(spec.during) : undefined;
  return { everyMs: every && every > 0 ? every : DEFAULT_MONITOR_EVERY_MS, ...(during !== undefined ? { duringMs: during } : {}) };
}

/** The criteria a flag is judged on at a stage (at full: watched only, see WATCH_STAGES); none at off, for kill switches, for unknown flags. */
export function criteriaFor(env: Environment, flagKey: string, stage: Stage | null): ResolvedCriteria {
  const flag = env.flags.get(flagKey);
  const rollbackTo = flag?.exitCriteria?.rollbackTo ?? env.exitCriteria?.rollbackTo ?? 'previous';
  if (!flag || flag.killSwitch || stage === null || !(WATCH_STAGES as readonly string[]).includes(stage)) return { criteria: [], rollbackTo };
  const names = new Set<string>();
  for (const spec of [env.exitCriteria, flag.exitCriteria]) {
    for (const name of [...(stage === 'full' ? [] : (spec?.all ?? [])), ...(spec?.[stage as WatchStage] ?? [])]) names.add(name);
  }
  const criteria: Criterion[] = [];
  for (const name of names) {
    const monitor = env.monitors.find((m) => m.name === name);
    if (monitor) criteria.push({ monitor: name, ...monitorCadence(monitor) });
  }
  return { criteria, rollbackTo };
}

/** Whether any flag of the environment can have criteria (saves the plan a query when none can). */
export const hasExitCriteria = (env: Environment): boolean =>
  env.exitCriteria !== undefined || [...env.flags.values()].some((f) => f.exitCriteria !== undefined);

type Report = (path: PathToken[], message: string, options?: { key?: boolean; severity?: Problem['severity'] }) => void;

/** What the schema cannot say: monitor names unique, criteria naming monitors that exist, criteria where they can act. */
export function checkExitCriteria(raw: Record<string, unknown>, report: Report): void {
  const monitors = Array.isArray(raw.monitors) ? (raw.monitors as unknown[]) : [];
  const names = new Map<string, number>();
  monitors.forEach((monitor, index) => {
    const name = isRecord(monitor) && typeof monitor.name === 'string' ? monitor.name : undefined;
    if (name === undefined) return;
    const first = names.get(name);
    if (first === undefined) names.set(name, index);
    else report(['monitors', index, 'name'], `monitor name '${clip(name)}' is used twice (also monitors[${first}]); exit criteria name monitors, so give each its own name.`);
    if (isRecord(monitor) && monitor.baseline !== undefined && typeof monitor.sql !== 'string') {
      report(['monitors', index, 'baseline'], `monitor '${clip(name)}' has a baseline but no sql: a baseline compares the sql's measurement with the one before a move; add sql, or remove baseline.`);
    }
  });
  const checkLists = (spec: unknown, at: PathToken[]): void => {
    if (!isRecord(spec)) return;
    for (const key of LIST_KEYS) {
      const list = spec[key];
      if (!Array.isArray(list)) continue;
      list.forEach((name, index) => {
        if (typeof name !== 'string' || names.has(name)) return;
        const known = [...names.keys()];
        report(
          [...at, key, index],
          `exit criterion '${clip(name)}' is not a monitor of this environment${suggestion(name, known)}${known.length ? ` Monitors: ${known.map((n) => `'${clip(n)}'`).join(', ')}.` : ' Add it under monitors: (name, sql and a threshold).'}`,
        );
      });
    }
  };
  checkLists(raw.exit_criteria, ['exit_criteria']);
  const flags = isRecord(raw.flags) ? raw.flags : {};
  for (const [key, flag] of Object.entries(flags)) {
    if (!isRecord(flag) || flag.exit_criteria === undefined) continue;
    checkLists(flag.exit_criteria, ['flags', key, 'exit_criteria']);
    if (flag.kill_switch === true) {
      report(['flags', key, 'exit_criteria'], `flag '${clip(key)}' is a kill switch: exit criteria never move a kill switch; trip it from a monitor's on_breach: { kill_switch: ${clip(key)} } instead.`, { key: true, severity: 'warning' });
    } else if (!isRecord(flag.rollout)) {
      report(['flags', key, 'exit_criteria'], `flag '${clip(key)}' has no rollout, so its exit criteria never gate anything; add rollout: { stage: dark } (or remove exit_criteria).`, { key: true, severity: 'warning' });
    }
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
