/**
 * `rollout health`: take every monitor's measurement through the same read-only guard
 * as checks, judge it, and carry out breach actions: 'report', or trip a kill switch by
 * break-glass. Unknown (no data, a failing query) never trips anything.
 */
import type pg from 'pg';
import { parseDuration } from '../config/duration.ts';
import type { Environment, JsonValue, MonitorSpec } from '../config/model.ts';
import { toError } from '../errors.ts';
import { tripKillSwitch, DEFAULT_KILL_VALUE } from '../breakglass/break-glass.ts';
import { asNumber } from '../checks/compare.ts';
import { checkConnection, runReadOnly, type CheckAccess, type CheckConnection } from '../checks/guard.ts';
import { burnRate, evaluateBurnPairs, evaluateThreshold, type HealthStatus, type PairVerdict } from './evaluate.ts';
import { cleanupFailed } from '../cleanup.ts';

export const DEFAULT_MONITOR_TIMEOUT_MS = 30_000;

export type BreachAction =
  | { kind: 'report' }
  | { kind: 'kill_switch'; flag: string; value: JsonValue; outcome: 'tripped' | 'already set' | 'not run' | 'failed'; ledgerId?: number; message?: string };

export interface MonitorResult {
  name: string;
  kind: 'threshold' | 'burn_rate' | 'invalid';
  status: HealthStatus;
  severity: 'warning' | 'critical';
  detail: string;
  value?: number;
  windows?: PairVerdict[];
  query?: string;
  /** What was done about a breach (only on breach). */
  action?: BreachAction;
  durationMs: number;
}

export interface HealthReport {
  environment: string;
  status: HealthStatus;
  results: MonitorResult[];
  summary: Record<HealthStatus, number>;
}

export interface RunMonitorsOptions {
  root: string;
  /** How measurements reach the database, as the checks role (checks/guard.ts checkAccess); connections are ended by the runner. */
  access: CheckAccess;
  /** The client break-glass writes with (takes the environment lock itself), or how to get one after the embedded database restarted. */
  writer: pg.ClientBase | (() => Promise<pg.ClientBase>);
  actor: string;
  /** false: measure and report only, never trip a kill switch (dry run). */
  act: boolean;
  timeoutMs?: number;
}

/** Exit codes of `rollout health`: 0 healthy, 1 breach (whatever else), 3 unknown without breach. */
export const HEALTH_EXIT_CODES: Record<HealthStatus, number> = { healthy: 0, breach: 1, unknown: 3 };

export async function runMonitors(env: Environment, options: RunMonitorsOptions): Promise<HealthReport> {
  const results: MonitorResult[] = [];
  let connection: CheckConnection | undefined;
  const connect = async (): Promise<CheckConnection> => {
    // A measurement past its deadline gives up its connection (the guard stopped it): the next one opens another.
    if (connection?.broken) connection = undefined;
    return (connection ??= await checkConnection(await options.access.connect(), options.access));
  };
  try {
    for (const spec of env.monitors) results.push(await measure(spec, connect, options.timeoutMs ?? DEFAULT_MONITOR_TIMEOUT_MS));
  } finally {
    await connection?.client.end().catch(cleanupFailed('closing the monitors connection'));
  }
  for (const [index, result] of results.entries()) {
    if (result.status !== 'breach') continue;
    result.action = await act(env, env.monitors[index], result, options);
  }
  const summary: Record<HealthStatus, number> = { healthy: 0, breach: 0, unknown: 0 };
  for (const r of results) summary[r.status] += 1;
  const status: HealthStatus = summary.breach > 0 ? 'breach' : summary.unknown > 0 ? 'unknown' : 'healthy';
  return { environment: env.name, status, results, summary };
}

async function measure(spec: MonitorSpec, connect: () => Promise<CheckConnection>, timeoutMs: number): Promise<MonitorResult> {
  const severity = spec.severity === 'critical' ? 'critical' : 'warning';
  const started = performance.now();
  const base = { name: spec.name, severity } as const;
  const burn = spec.burn_rate as { sql: string; slo: number; windows: { long: string; short: string; factor: number }[] } | undefined;
  try {
    if (burn) {
      const cache = new Map<number, number | undefined>();
      const rate = async (window: string): Promise<number | undefined> => {
        const seconds = (parseDuration(window) ?? NaN) / 1000;
        if (!cache.has(seconds)) {
          const { rows, fields } = await runReadOnly<Record<string, unknown>>(await connect(), { text: burn.sql, values: [seconds] }, timeoutMs);
          const row = rows[0];
          const good = row ? asNumber(row.good ?? row[fields[0]]) : undefined;
          const total = row ? asNumber(row.total ?? row[fields[1]]) : undefined;
          cache.set(seconds, burnRate(good, total, burn.slo));
        }
        return cache.get(seconds);
      };
      const pairs = [];
      for (const w of burn.windows) pairs.push({ ...w, longBurn: await rate(w.long), shortBurn: await rate(w.short) });
      const verdict = evaluateBurnPairs(pairs);
      return { ...base, kind: 'burn_rate', status: verdict.status, detail: verdict.detail, windows: verdict.pairs, query: burn.sql, durationMs: performance.now() - started };
    }
    if (typeof spec.sql !== 'string') {
      return { ...base, kind: 'invalid', status: 'unknown', detail: 'monitor measures nothing: give it sql with above/below, or burn_rate', durationMs: 0 };
    }
    const { rows, fields } = await runReadOnly<Record<string, unknown>>(await connect(), { text: spec.sql }, timeoutMs);
    const values = rows.map((r) => asNumber(r[fields[0]]));
    const rule = { ...(typeof spec.above === 'number' ? { above: spec.above } : {}), ...(typeof spec.below === 'number' ? { below: spec.below } : {}) };
    const verdict = evaluateThreshold(values, rule);
    return { ...base, kind: 'threshold', status: verdict.status, detail: verdict.detail, ...(verdict.value !== undefined ? { value: verdict.value } : {}), query: spec.sql, durationMs: performance.now() - started };
  } catch (thrown) {
    return {
      ...base,
      kind: burn ? 'burn_rate' : 'threshold',
      status: 'unknown',
      detail: `measurement failed, so health is unknown: ${toError(thrown).message}`,
      query: burn?.sql ?? (spec.sql as string),
      durationMs: performance.now() - started,
    };
  }
}

async function act(env: Environment, spec: MonitorSpec, result: MonitorResult, options: RunMonitorsOptions): Promise<BreachAction> {
  const onBreach = spec.on_breach;
  if (typeof onBreach !== 'object' || onBreach === null || Array.isArray(onBreach) || typeof onBreach.kill_switch !== 'string') return { kind: 'report' };
  const flag = onBreach.kill_switch;
  const value = (onBreach.value as JsonValue | undefined) ?? DEFAULT_KILL_VALUE;
  if (!options.act) return { kind: 'kill_switch', flag, value, outcome: 'not run', message: 'dry run (--no-act): the kill switch was not tripped' };
  try {
    const writer = typeof options.writer === 'function' ? await options.writer() : options.writer;
    const done = await tripKillSwitch(writer, env, {
      flag,
      value,
      reason: `monitor "${result.name}" breached: ${result.detail}`,
      actor: options.actor,
      trigger: `monitor: ${result.name}`,
      root: options.root,
    });
    return done.ledgerId === null
      ? { kind: 'kill_switch', flag, value, outcome: 'already set' }
      : { kind: 'kill_switch', flag, value, outcome: 'tripped', ledgerId: done.ledgerId };
  } catch (thrown) {
    return { kind: 'kill_switch', flag, value, outcome: 'failed', message: toError(thrown).message };
  }
}
