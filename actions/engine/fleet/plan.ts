/**
 * The plan of a fleet: every selected target planned by the single-database planner (in a
 * bounded pool), grouped by identical plan, with one hash over all of them. Targets whose
 * plans have the same hash would get the same changes, so the reviewer reads each group once.
 */
import { createHash } from 'node:crypto';
import { DatabaseError, toError } from '../errors.ts';
import { gatesFor, planOperation, type PlanRequest } from '../operations.ts';
import type { GateContext } from '../plan/planner.ts';
import type { Plan } from '../plan/types.ts';
import { summaryLine } from '../render/plan.ts';
import type { FleetTarget } from './model.ts';
import { runPool } from './pool.ts';
import { defaultConcurrency, describeSelection, selectFleet, type FleetSelection, type SelectOptions } from './selection.ts';
import { targetEnvironment } from './target-environment.ts';
import type { Shard } from './waves.ts';

export interface TargetPlan {
  target: string;
  wave: string;
  labels: Record<string, string>;
  plan?: Plan;
  /** Why the target could not be planned (unreachable, or an error of its own). */
  error?: { message: string; unreachable: boolean };
}

export interface PlanGroup {
  /** The shared per-target plan hash, or "unreachable" / "error". */
  hash: string;
  summary: string;
  targets: string[];
}

export interface FleetPlan {
  format: 1;
  kind: 'fleet';
  environment: string;
  file: string;
  commit: string | null;
  /** Over every selected target's name, wave and plan hash: what `apply --plan-hash` checks. */
  hash: string;
  wave?: string;
  shard?: Shard;
  waves: Array<{ name: string; targets: string[] }>;
  groups: PlanGroup[];
  targets: TargetPlan[];
  summary: { targets: number; changing: number; unchanged: number; unreachable: number; failed: number; withMigrations: number; blocked: number; refused: number };
  noop: boolean;
}

export interface FleetPlanRequest extends PlanRequest, SelectOptions {
  concurrency?: number;
}

export async function planFleet(request: FleetPlanRequest): Promise<FleetPlan> {
  const selection = await selectFleet(request.env, request, request);
  const gates = request.gates ?? (await gatesFor(request.root, request.env, request.processEnv, request.repository, request.now));
  const targets = await planTargets(selection, request, gates, request.concurrency ?? defaultConcurrency(selection, request.processEnv));
  return assembleFleetPlan(selection, request.commit, targets);
}

export async function planTargets(selection: FleetSelection, request: PlanRequest, gates: GateContext, concurrency: number): Promise<TargetPlan[]> {
  const items = selection.selected.flatMap((wave) => wave.targets.map((target) => ({ wave: wave.name, target })));
  const plans = await runPool(items, concurrency, ({ wave, target }) => planTarget(request, gates, wave, target));
  return plans.filter((p): p is TargetPlan => p !== undefined);
}

async function planTarget(request: PlanRequest, gates: GateContext, wave: string, target: FleetTarget): Promise<TargetPlan> {
  const base = { target: target.name, wave, labels: target.labels };
  try {
    const plan = await planOperation({ ...request, env: targetEnvironment(request.env, target), gates });
    return { ...base, plan };
  } catch (thrown) {
    return { ...base, error: { message: toError(thrown).message, unreachable: thrown instanceof DatabaseError } };
  }
}

export function assembleFleetPlan(selection: FleetSelection, commit: string | null, targets: TargetPlan[]): FleetPlan {
  const env = selection.environment;
  const groups = new Map<string, PlanGroup>();
  for (const t of targets) {
    const key = t.plan?.hash ?? (t.error?.unreachable ? 'unreachable' : 'error');
    const group = groups.get(key) ?? { hash: key, summary: groupSummary(t), targets: [] };
    group.targets.push(t.target);
    groups.set(key, group);
  }
  const plans = targets.flatMap((t) => (t.plan ? [t.plan] : []));
  return {
    format: 1,
    kind: 'fleet',
    environment: env.name,
    file: env.file,
    commit,
    hash: fleetPlanHash(env.name, targets),
    ...(selection.wave !== undefined ? { wave: selection.wave } : {}),
    ...(selection.shard ? { shard: selection.shard } : {}),
    waves: selection.selected.map((w) => ({ name: w.name, targets: w.targets.map((t) => t.name) })),
    // Largest group first: the usual case, then the exceptions.
    groups: [...groups.values()].sort((a, b) => b.targets.length - a.targets.length || a.hash.localeCompare(b.hash)),
    targets,
    summary: {
      targets: targets.length,
      changing: plans.filter((p) => !p.noop).length,
      unchanged: plans.filter((p) => p.noop).length,
      unreachable: targets.filter((t) => t.error?.unreachable).length,
      failed: targets.filter((t) => t.error && !t.error.unreachable).length,
      withMigrations: plans.filter((p) => p.migrations.pending.length > 0).length,
      blocked: plans.filter((p) => p.summary.blocked).length,
      refused: plans.filter((p) => p.summary.refused > 0).length,
    },
    noop: targets.every((t) => t.plan?.noop === true),
  };
}

/** One line per target, sorted by name: a target that changed, appeared or went away changes it. */
export function fleetPlanHash(environment: string, targets: readonly TargetPlan[]): string {
  const hash = createHash('sha256').update(`rollout fleet plan 1\t${JSON.stringify(environment)}\n`);
  for (const t of [...targets].sort((a, b) => (a.target < b.target ? -1 : 1))) {
    hash.update(`${JSON.stringify(t.target)}\t${JSON.stringify(t.wave)}\t${t.plan?.hash ?? (t.error?.unreachable ? 'unreachable' : 'error')}\n`);
  }
  return hash.digest('hex');
}

function groupSummary(t: TargetPlan): string {
  if (!t.plan) return t.error?.unreachable ? 'unreachable' : `could not be planned: ${t.error?.message ?? 'unknown error'}`;
  const drift = t.plan.flags.filter((c) => c.drift).map((c) => `\`${c.key}\``);
  return `${summaryLine(t.plan).replace(/\.$/, '')}${drift.length ? `; drift on ${drift.join(', ')}` : ''}`;
}

export const fleetTitle = (plan: { environment: string; wave?: string; shard?: Shard }): string => {
  const part = describeSelection(plan);
  return `${plan.environment}${part ? ` (${part})` : ''}`;
};
