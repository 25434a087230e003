/**
 * The fan-out over the GitHub Actions job matrix, in two pure-ish steps around the shard jobs:
 * the planning job picks the next wave (the first one not at the desired state), checks the
 * soak of the wave before it, and splits the wave into shards (each with the plan hash its job
 * must still find); the aggregating job joins the shards' reports, counts the wave's failures
 * against its budget across all shards, and says whether the next wave may start.
 */
import { UsageError } from '../errors.ts';
import { gatesFor, type PlanRequest } from '../operations.ts';
import type { FleetApplyReport, TargetResult } from './apply.ts';
import { fleetPlanHash, planTargets, type TargetPlan } from './plan.ts';
import { defaultConcurrency, selectFleet } from './selection.ts';
import { lastChange, soakEnd } from './soak.ts';
import type { TargetContext } from './targets.ts';
import { overBudget, shardOf } from './waves.ts';
import type { Environment } from '../config/model.ts';

export interface MatrixShard {
  wave: string;
  /** "i/n", as `apply --shard` takes it. */
  shard: string;
  targets: number;
  /** What `apply --wave W --shard i/n --plan-hash H` must still find. */
  plan_hash: string;
}

export interface FleetMatrix {
  environment: string;
  /** The wave to apply now; null when every wave is at the desired state. */
  wave: string | null;
  /** True when the shards below may run now. */
  ready: boolean;
  reason: string;
  /** When the wave may start, if it waits for the previous one's soak. */
  waiting_until?: string;
  /** The hash over every target of the fleet, for the record. */
  fleet_plan_hash: string;
  /** `strategy.matrix` as GitHub takes it: { include: [...] }. */
  matrix: { include: MatrixShard[] };
}

export interface MatrixRequest extends PlanRequest {
  maxShards: number;
  targetsPerShard: number;
  concurrency?: number;
}

export async function planMatrix(request: MatrixRequest): Promise<FleetMatrix> {
  const selection = await selectFleet(request.env, request);
  const gates = request.gates ?? (await gatesFor(request.root, request.env, request.processEnv, request.repository, request.now));
  const concurrency = request.concurrency ?? defaultConcurrency(selection, request.processEnv);
  const plans = await planTargets(selection, request, gates, concurrency);
  const byTarget = new Map(plans.map((p) => [p.target, p]));
  const base = { environment: request.env.name, fleet_plan_hash: fleetPlanHash(request.env.name, plans), matrix: { include: [] as MatrixShard[] } };
  const settled = (t: TargetPlan | undefined): boolean => t?.plan?.noop === true;
  const index = selection.waves.findIndex((w) => !w.targets.every((t) => settled(byTarget.get(t.name))));
  if (index < 0) return { ...base, wave: null, ready: false, reason: `every target of ${request.env.name} is at the desired state.` };
  const wave = selection.waves[index];
  const previous = index > 0 ? selection.waves[index - 1] : undefined;
  if (previous && previous.soakMs > 0) {
    const until = soakEnd(await lastChange(request.env, request, previous.targets, concurrency), previous.soakMs, gates.now);
    if (until) {
      return { ...base, wave: wave.name, ready: false, waiting_until: until.toISOString(), reason: `wave ${wave.name} waits for wave ${previous.name} to soak until ${until.toISOString()}.` };
    }
  }
  const count = Math.max(1, Math.min(request.maxShards, Math.ceil(wave.targets.length / request.targetsPerShard)));
  const include = Array.from({ length: count }, (_, i): MatrixShard => {
    const targets = shardOf(wave.targets, { index: i + 1, count }).map((t) => byTarget.get(t.name)!);
    return { wave: wave.name, shard: `${i + 1}/${count}`, targets: targets.length, plan_hash: fleetPlanHash(request.env.name, targets) };
  });
  return { ...base, wave: wave.name, ready: true, reason: `wave ${wave.name}: ${wave.targets.length} target(s) in ${count} shard(s).`, matrix: { include } };
}

export type NextStep = 'continue' | 'stop' | 'done';

/** Join one wave's shard reports; a target no report covers (its job died) counts as failed. */
export async function aggregateShardReports(env: Environment, ctx: TargetContext, waveName: string, shards: readonly FleetApplyReport[]): Promise<{ report: FleetApplyReport; next: NextStep }> {
  const selection = await selectFleet(env, ctx, { wave: waveName });
  const wave = selection.selected[0];
  const found = new Map<string, TargetResult>();
  for (const shard of shards) {
    if (shard.kind !== 'fleet-apply' || shard.environment !== env.name || shard.wave !== waveName) {
      throw new UsageError(`a report given is not of ${env.name} wave ${waveName} (it is ${shard.kind ?? 'not a fleet report'} of ${shard.environment ?? '?'}${shard.wave ? ` wave ${shard.wave}` : ''}); pass the JSON reports of this wave's shard jobs (apply --format json --out FILE).`);
    }
    for (const t of shard.targets) found.set(t.target, t);
  }
  const targets = wave.targets.map(
    (t): TargetResult =>
      found.get(t.name) ?? { target: t.name, wave: waveName, outcome: 'failed', reason: 'no shard reported this target: its job did not finish', migrationsApplied: [], flagChanges: 0, ledgerId: null, migrationsKept: [], ledgerHead: null },
  );
  const failures = targets.filter((t) => t.outcome === 'failed' || t.outcome === 'reverted').length;
  const over = overBudget(wave.budget, failures, wave.targets.length);
  const last = selection.waves[selection.waves.length - 1].name === waveName;
  const report: FleetApplyReport = {
    format: 1,
    kind: 'fleet-apply',
    environment: env.name,
    commit: shards[0]?.commit ?? null,
    wave: waveName,
    waves: [{ name: waveName, state: over ? 'stopped' : 'done', targets: wave.targets.length, failures, budget: wave.budget }],
    targets,
    stopped: over ? { wave: waveName, failures, targets: wave.targets.length } : null,
    waiting: null,
    complete: targets.every((t) => t.outcome === 'applied' || t.outcome === 'unchanged'),
  };
  return { report, next: over ? 'stop' : last ? 'done' : 'continue' };
}
