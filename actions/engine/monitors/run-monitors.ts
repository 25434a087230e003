/**
 * `rollout health`: take every monitor's measurement through the same read-only guard
 * as checks, judge it, record it (rollout.measurements, the evidence of exit criteria), and
 * carry out breach actions: trip a kill switch by break-glass, move back the flags whose exit
 * criterion it is (auto-rollback), then dispatch a workflow or call a webhook. Database actions
 * commit with the measurement that caused them. Unknown (no data, a failing query) never acts.
 */
import type pg from 'pg';
import { parseDuration } from '../config/duration.ts';
import type { Environment, JsonValue, MonitorSpec } from '../config/model.ts';
import { toError } from '../errors.ts';
import { tripKillSwitch, DEFAULT_KILL_VALUE } from '../breakglass/break-glass.ts';
import { asNumber } from '../checks/compare.ts';
import { checkConnection, type CheckAccess, type CheckConnection } from '../checks/guard.ts';
import { runReadOnlyBatch, type BatchOutcome, type BatchQuery } from '../checks/read-only-batch.ts';
import { loadRepositorySettings } from '../config/repository-settings.ts';
import { rollBackStages } from '../breakglass/stage-rollback.ts';
import { ladderPosition, type Position } from '../stages/ladder.ts';
import { readLiveState } from '../store/live-state.ts';
import { externalActionsOf, runExternalAction, type ExternalAction, type GitHubTarget } from './breach-actions.ts';
import { burnRate, evaluateBurnPairs, evaluateThreshold, type HealthStatus, type PairVerdict } from './evaluate.ts';
import { ensureMeasurementsTable, insertMeasurements, readBaselines, type MeasurementRow } from './measurements.ts';
import { flagsServed, planStageRollbacks, type LivePosition } from './stage-rollback.ts';
import { cleanupFailed } from '../cleanup.ts';
import { ContractRegistry } from '../config/contracts.ts';
import { parseTexts } from '../checks/parse-memo.ts';
import { measureHttp } from './http-monitor.ts';
import { timed } from '../timings.ts';

export const DEFAULT_MONITOR_TIMEOUT_MS = 30_000;
/** Connections measuring at once on a server (as checks run: checks/run-checks.ts DEFAULT_CONCURRENCY). */
export const DEFAULT_MONITOR_CONCURRENCY = 4;
/** Monitors measured in one transaction of one connection at most. */
export const MAX_BATCH = 50;

export type BreachAction =
  | { kind: 'report' }
  | { kind: 'kill_switch'; flag: string; value: JsonValue; outcome: 'tripped' | 'already set' | 'not run' | 'failed'; ledgerId?: number; message?: string }
  | { kind: 'stage_rollback'; flag: string; from: Position; to: Position; outcome: 'rolled back' | 'not run' | 'moved meanwhile' | 'failed'; ledgerId?: number; message?: string }
  | ExternalAction;

export interface MonitorResult {
  name: string;
  kind: 'threshold' | 'burn_rate' | 'http' | 'invalid';
  status: HealthStatus;
  severity: 'warning' | 'critical';
  detail: string;
  value?: number;
  windows?: PairVerdict[];
  query?: string;
  /** What was done about a breach (only on breach): the kill switch, or report. */
  action?: BreachAction;
  /** Everything done about a breach, in order: `action`, stage rollbacks, dispatches and webhooks. */
  actions?: BreachAction[];
  /** Flags whose exit criterion this monitor is now (their soak needs it healthy). */
  flags?: string[];
  /** The baseline a relative threshold compared with. */
  baseline?: { value: number; at: string };
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
  /** false: measure and report only: record nothing, trip nothing, move nothing, call nothing (dry run). */
  act: boolean;
  timeoutMs?: number;
  /** Measurements at once on a server (default 4); always 1 on the embedded database. */
  concurrency?: number;
  /** The clock `during` windows are read on (default: now). */
  now?: Date;
  /** Where dispatch actions go, and the variables webhook URLs and tokens are read from. */
  github?: GitHubTarget;
  processEnv?: NodeJS.ProcessEnv;
  /** Where the parse trees of monitor queries are kept between runs (parse-memo.ts); none: parsed every run. */
  parseMemoDir?: string;
}

/** Exit codes of `rollout health`: 0 healthy, 1 breach (whatever else), 3 unknown without breach. */
export const HEALTH_EXIT_CODES: Record<HealthStatus, number> = { healthy: 0, breach: 1, unknown: 3 };

export async function runMonitors(env: Environment, options: RunMonitorsOptions): Promise<HealthReport> {
  const now = options.now ?? new Date();
  const writer = async (): Promise<pg.ClientBase> => (typeof options.writer === 'function' ? await options.writer() : options.writer);
  // The guard's parse trees, while the live state is read: from an earlier run's memo, or from
  // the parser (a WASM module that takes tens of milliseconds to load). If it cannot load,
  // checkConnection loads it again and says why, per monitor.
  const parsing = parseTexts(monitorQueries(env), options.parseMemoDir).catch(() => undefined);
  // What exit criteria need before measuring: where each flag is, and the baselines of relative thresholds.
  const positions = await timed('monitors: live state', async () => livePositions(env, await writer()));
  const served = flagsServed(env, positions, now);
  const baselines = await readBaselines(await writer(), env.name, baselineMoments(env, positions, served));
  const results = new Array<MonitorResult>(env.monitors.length);
  const timeoutMs = options.timeoutMs ?? DEFAULT_MONITOR_TIMEOUT_MS;
  const jobs: { index: number; measurement: Measurement }[] = [];
  const probes: number[] = [];
  for (const [index, spec] of env.monitors.entries()) {
    // An HTTP monitor asks the service, not the database: it is measured beside the SQL batches.
    if (spec.http !== undefined) {
      probes.push(index);
      continue;
    }
    const planned = planMeasurement(spec, baselines.get(spec.name));
    if ('result' in planned) results[index] = planned.result;
    else jobs.push({ index, measurement: planned });
  }
  // Each connection measures its share in one read-only transaction, pipelined
  // (checks/read-only-batch.ts): one round trip's wait per batch, not four per monitor. Several
  // connections overlap the server's work; the embedded database is one session that every
  // connection shares, so there it is one. A batch is at most MAX_BATCH monitors, so that a
  // slow monitor holds up no more than the rest of its batch.
  const parsed = await timed('monitors: parse trees (wait)', () => parsing);
  const access: CheckAccess = parsed ? { ...options.access, parsed } : options.access;
  const concurrency = options.access.sharedSession ? 1 : Math.max(1, Math.min(options.concurrency ?? DEFAULT_MONITOR_CONCURRENCY, jobs.length || 1));
  const size = Math.max(1, Math.min(MAX_BATCH, Math.ceil(jobs.length / concurrency)));
  const batches = Array.from({ length: Math.ceil(jobs.length / size) }, (_, b) => jobs.slice(b * size, (b + 1) * size));
  let next = 0;
  const worker = async (): Promise<void> => {
    let connection: CheckConnection | undefined;
    const connect = async (): Promise<CheckConnection> => {
      // A measurement past its deadline gives up its connection (the guard stopped it): the next one opens another.
      if (connection?.broken) connection = undefined;
      return (connection ??= await checkConnection(await access.connect({ pipeline: true }), access));
    };
    try {
      for (let b = next++; b < batches.length; b = next++) {
        const batch = batches[b];
        const outcomes = await runReadOnlyBatch<Record<string, unknown>>(connect, batch.flatMap((j) => j.measurement.queries), timeoutMs);
        let at = 0;
        for (const { index, measurement } of batch) {
          const own = outcomes.slice(at, (at += measurement.queries.length));
          const result = measurement.judge(own);
          const flags = served.get(result.name);
          results[index] = flags ? { ...result, flags } : result;
        }
      }
    } finally {
      // A broken connection was ended by the guard already.
      if (connection && !connection.broken) await connection.client.end().catch(cleanupFailed('closing a monitors connection'));
    }
  };
  const contracts = new ContractRegistry(options.root);
  const probe = async (index: number): Promise<void> => {
    const result = await measureHttp(env.monitors[index], { processEnv: options.processEnv ?? {}, contracts, timeoutMs });
    const flags = served.get(result.name);
    results[index] = flags ? { ...result, flags } : result;
  };
  await timed('monitors: measure', () => Promise.all([...Array.from({ length: concurrency }, worker), ...probes.map(probe)]));
  await timed('monitors: record and act', () => act(env, results, positions, now, writer, options));
  const summary: Record<HealthStatus, number> = { healthy: 0, breach: 0, unknown: 0 };
  for (const r of results) summary[r.status] += 1;
  const status: HealthStatus = summary.breach > 0 ? 'breach' : summary.unknown > 0 ? 'unknown' : 'healthy';
  return { environment: env.name, status, results, summary };
}

/** The texts of every SQL monitor's queries (burn-rate windows share theirs). */
function monitorQueries(env: Environment): string[] {
  return env.monitors.flatMap((spec) => {
    const burn = spec.burn_rate as { sql?: unknown } | undefined;
    const text = spec.http !== undefined ? undefined : burn ? burn.sql : spec.sql;
    return typeof text === 'string' ? [text] : [];
  });
}

/** What a monitor sends (its queries, in order) and how it judges their answers. */
interface Measurement {
  queries: BatchQuery[];
  judge(outcomes: readonly BatchOutcome<Record<string, unknown>>[]): MonitorResult;
}

function planMeasurement(spec: MonitorSpec, baseline: { value: number; at: Date } | undefined): Measurement | { result: MonitorResult } {
  const severity = spec.severity === 'critical' ? 'critical' : 'warning';
  const base = { name: spec.name, severity } as const;
  const burn = spec.burn_rate as { sql: string; slo: number; windows: { long: string; short: string; factor: number }[] } | undefined;
  const durationOf = (outcomes: readonly BatchOutcome<unknown>[]): number => outcomes.reduce((sum, o) => sum + o.durationMs, 0);
  const failed = (outcomes: readonly BatchOutcome<unknown>[]): MonitorResult | undefined => {
    const failure = outcomes.find((o) => !o.ok);
    if (!failure || failure.ok) return undefined;
    return {
      ...base,
      kind: burn ? 'burn_rate' : 'threshold',
      status: 'unknown',
      detail: `measurement failed, so health is unknown: ${toError(failure.error).message}`,
      query: burn?.sql ?? (spec.sql as string),
      durationMs: durationOf(outcomes),
    };
  };
  if (burn) {
    // One query per distinct window length, whichever pairs share it.
    const seconds = [...new Set(burn.windows.flatMap((w) => [w.long, w.short]).map((window) => (parseDuration(window) ?? NaN) / 1000))];
    return {
      queries: seconds.map((s) => ({ text: burn.sql, values: [s] })),
      judge(outcomes) {
        const failure = failed(outcomes);
        if (failure) return failure;
        const rates = new Map<number, number | undefined>();
        seconds.forEach((s, k) => {
          const outcome = outcomes[k];
          if (!outcome.ok) return;
          const row = outcome.rows[0];
          const good = row ? asNumber(row.good ?? row[outcome.fields[0]]) : undefined;
          const total = row ? asNumber(row.total ?? row[outcome.fields[1]]) : undefined;
          rates.set(s, burnRate(good, total, burn.slo));
        });
        const rate = (window: string): number | undefined => rates.get((parseDuration(window) ?? NaN) / 1000);
        const verdict = evaluateBurnPairs(burn.windows.map((w) => ({ ...w, longBurn: rate(w.long), shortBurn: rate(w.short) })));
        return { ...base, kind: 'burn_rate', status: verdict.status, detail: verdict.detail, windows: verdict.pairs, query: burn.sql, durationMs: durationOf(outcomes) };
      },
    };
  }
  if (typeof spec.sql !== 'string') {
    return { result: { ...base, kind: 'invalid', status: 'unknown', detail: 'monitor measures nothing: give it sql with above/below, burn_rate, or http', durationMs: 0 } };
  }
  const sql = spec.sql;
  return {
    queries: [{ text: sql }],
    judge(outcomes) {
      const outcome = outcomes[0];
      if (!outcome.ok) return failed(outcomes)!;
      const { rows, fields } = outcome;
      const values = rows.map((r) => asNumber(r[fields[0]]));
      const query = { query: sql, durationMs: outcome.durationMs };
      if (rows.length === 0 && spec.empty === 'healthy') return { ...base, kind: 'threshold', status: 'healthy', detail: 'no rows, which this monitor declares healthy (empty: healthy)', ...query };
      const relative = relativeRule(spec, baseline);
      if (relative && 'unknown' in relative) {
        // Unknown without a baseline, but what was measured is recorded: it is the baseline of the
        // next move. Without it a relative threshold could never get its first baseline.
        const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
        const worst = known.length === 0 ? undefined : (spec.baseline as { above?: number }).above !== undefined ? Math.max(...known) : Math.min(...known);
        return { ...base, kind: 'threshold', status: 'unknown', detail: relative.unknown, ...(worst !== undefined ? { value: worst } : {}), ...query };
      }
      const rule = relative ?? { ...(typeof spec.above === 'number' ? { above: spec.above } : {}), ...(typeof spec.below === 'number' ? { below: spec.below } : {}) };
      const verdict = evaluateThreshold(values, rule);
      const against = relative && baseline ? { baseline: { value: baseline.value, at: baseline.at.toISOString() } } : {};
      const detail = relative && baseline ? `${verdict.detail} (baseline ${baseline.value} at ${baseline.at.toISOString()})` : verdict.detail;
      return { ...base, kind: 'threshold', status: verdict.status, detail, ...(verdict.value !== undefined ? { value: verdict.value } : {}), ...against, ...query };
    },
  };
}

/**
 * Breach actions, in order of urgency: kill switches (each with its measurement, in its
 * transaction), then stage rollbacks (one auto-rollback entry, with every measurement of the
 * run), then what lies outside the database. Without --no-act every measurement is recorded.
 */
async function act(env: Environment, results: MonitorResult[], positions: ReadonlyMap<string, LivePosition>, now: Date, writer: () => Promise<pg.ClientBase>, options: RunMonitorsOptions): Promise<void> {
  const rows = new Map<MonitorResult, MeasurementRow>(results.map((r) => [r, { monitor: r.name, flags: r.flags ?? [], verdict: r.status, value: r.value ?? null, detail: r.detail }]));
  const recorded = new Set<MonitorResult>();
  if (options.act) await ensureMeasurementsTable(await writer(), env);
  for (const [index, result] of results.entries()) {
    if (result.status !== 'breach') continue;
    const action = await tripSwitch(env, env.monitors[index], result, options, writer, async (client, ledgerId) => {
      await insertMeasurements(client, env.name, [{ ...rows.get(result)!, ledgerId }]);
      recorded.add(result);
    });
    result.action = action;
    result.actions = [action];
  }

  const breached = new Set(results.filter((r) => r.status === 'breach').map((r) => r.name));
  const rollbacks = planStageRollbacks({ env, positions, breached, ladder: loadRepositorySettings(options.root).ladder, now });
  const pending = results.filter((r) => !recorded.has(r)).map((r) => rows.get(r)!);
  const rolled = new Map<string, Extract<BreachAction, { kind: 'stage_rollback' }>>();
  if (!options.act) {
    for (const r of rollbacks) rolled.set(r.flag, { kind: 'stage_rollback', flag: r.flag, from: r.from, to: r.to, outcome: 'not run', message: 'dry run (--no-act): the flag was not moved' });
  } else if (rollbacks.length > 0) {
    try {
      const done = await rollBackStages(await writer(), env, { rollbacks, measurements: pending, actor: options.actor });
      for (const r of rollbacks) {
        const made = done.done.includes(r);
        rolled.set(r.flag, { kind: 'stage_rollback', flag: r.flag, from: r.from, to: r.to, outcome: made ? 'rolled back' : 'moved meanwhile', ...(made && done.ledgerId !== null ? { ledgerId: done.ledgerId } : {}) });
      }
    } catch (thrown) {
      for (const r of rollbacks) rolled.set(r.flag, { kind: 'stage_rollback', flag: r.flag, from: r.from, to: r.to, outcome: 'failed', message: toError(thrown).message });
      await insertMeasurements(await writer(), env.name, pending).catch(() => undefined);
    }
  } else {
    await insertMeasurements(await writer(), env.name, pending);
  }
  for (const r of rollbacks) {
    for (const monitor of r.monitors) {
      const result = results.find((x) => x.name === monitor);
      if (result) result.actions = [...(result.actions ?? []), rolled.get(r.flag)!];
    }
  }

  for (const [index, result] of results.entries()) {
    if (result.status !== 'breach') continue;
    const external = externalActionsOf(env.monitors[index].on_breach);
    if (external.length === 0) continue;
    const rolledBack = rollbacks.filter((r) => r.monitors.includes(result.name) && rolled.get(r.flag)?.outcome === 'rolled back').map((r) => r.flag);
    const payload = { environment: env.name, monitor: result.name, severity: result.severity, verdict: result.status, value: result.value ?? null, detail: result.detail, at: now.toISOString(), flags: result.flags ?? [], rolledBack };
    for (const action of external) {
      const done = await runExternalAction(action, payload, { processEnv: options.processEnv ?? {}, github: options.github ?? { apiUrl: options.processEnv?.GITHUB_API_URL ?? 'https://api.github.com' }, act: options.act });
      result.actions = [...(result.actions ?? []), done];
    }
  }
}

async function tripSwitch(
  env: Environment,
  spec: MonitorSpec,
  result: MonitorResult,
  options: RunMonitorsOptions,
  writer: () => Promise<pg.ClientBase>,
  record: (client: pg.ClientBase, ledgerId: number) => Promise<void>,
): Promise<BreachAction> {
  const entry = (Array.isArray(spec.on_breach) ? spec.on_breach : [spec.on_breach]).find(
    (a): a is Record<string, JsonValue> => typeof a === 'object' && a !== null && !Array.isArray(a) && typeof a.kill_switch === 'string',
  );
  if (!entry) return { kind: 'report' };
  const flag = entry.kill_switch as string;
  const value = (entry.value as JsonValue | undefined) ?? DEFAULT_KILL_VALUE;
  if (!options.act) return { kind: 'kill_switch', flag, value, outcome: 'not run', message: 'dry run (--no-act): the kill switch was not tripped' };
  try {
    const client = await writer();
    const done = await tripKillSwitch(client, env, {
      flag,
      value,
      reason: `monitor "${result.name}" breached: ${result.detail}`,
      actor: options.actor,
      trigger: `monitor: ${result.name}`,
      root: options.root,
      beforeCommit: (ledgerId) => record(client, ledgerId),
    });
    return done.ledgerId === null
      ? { kind: 'kill_switch', flag, value, outcome: 'already set' }
      : { kind: 'kill_switch', flag, value, outcome: 'tripped', ledgerId: done.ledgerId };
  } catch (thrown) {
    return { kind: 'kill_switch', flag, value, outcome: 'failed', message: toError(thrown).message };
  }
}

/** Live positions of the flags that can have exit criteria, from rollout.flag_rollouts. */
async function livePositions(env: Environment, client: pg.ClientBase): Promise<Map<string, LivePosition>> {
  const positions = new Map<string, LivePosition>();
  const live = await readLiveState(client, env.flagTable);
  for (const [key, rollout] of live.rollouts) {
    const position = ladderPosition(rollout);
    if (!position || !env.flags.has(key)) continue;
    positions.set(key, { position, since: rollout.stageSince });
  }
  return positions;
}

/** For each monitor with a relative threshold: the latest move of a flag it is an exit criterion of. */
function baselineMoments(env: Environment, positions: ReadonlyMap<string, LivePosition>, served: ReadonlyMap<string, string[]>): Map<string, Date> {
  const moments = new Map<string, Date>();
  for (const spec of env.monitors) {
    if (spec.baseline === undefined) continue;
    for (const flag of served.get(spec.name) ?? []) {
      const since = positions.get(flag)?.since;
      const held = moments.get(spec.name);
      if (since && (!held || since > held)) moments.set(spec.name, since);
    }
  }
  return moments;
}

/** A relative threshold as an absolute rule, or why it cannot be judged. */
function relativeRule(spec: MonitorSpec, baseline: { value: number; at: Date } | undefined): { above?: number; below?: number } | { unknown: string } | undefined {
  const ratio = spec.baseline as { above?: number; below?: number } | undefined;
  if (ratio === undefined) return undefined;
  if (!baseline) return { unknown: 'no baseline: the threshold is relative to the last measurement before the latest move of a flag it is an exit criterion of, and there is none (no flag watches it, or it was not measured before the move)' };
  return { ...(ratio.above !== undefined ? { above: baseline.value * ratio.above } : {}), ...(ratio.below !== undefined ? { below: baseline.value * ratio.below } : {}) };
}
