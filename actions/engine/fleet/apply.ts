/**
 * Apply a fleet wave by wave. Each target goes through the single-database apply (its lock,
 * migrations, flags with their ledger entry, checks, and the revert of its flags when a check
 * fails), in a bounded pool. A wave that fails more targets than its budget allows stops the
 * rollout: nothing further starts, targets not yet touched stay untouched. A wave starts only
 * after the one before it held for its soak, measured from the targets' ledgers, so the
 * orchestration keeps no state of its own: a rerun plans again and resumes where it stopped.
 */
import { toError } from '../errors.ts';
import { applyOperation, gatesFor, type ApplyRequest } from '../operations.ts';
import { StalePlanError } from '../apply/apply-environment.ts';
import { matchesPlanHash } from '../plan/hash.ts';
import type { GateContext } from '../plan/planner.ts';
import type { FleetTarget } from './model.ts';
import { assembleFleetPlan, planTargets } from './plan.ts';
import { runPool } from './pool.ts';
import { defaultConcurrency, describeSelection, selectFleet, type FleetSelection, type SelectOptions } from './selection.ts';
import { lastChange, soakEnd } from './soak.ts';
import { targetEnvironment } from './target-environment.ts';
import { overBudget, type Shard, type Wave } from './waves.ts';

export type TargetOutcome =
  /** Changes applied and (when there are checks) checked. */
  | 'applied'
  /** Already at the desired state (its checks, if any, passed). */
  | 'unchanged'
  /** A check failed after apply; the target's flag changes were put back. */
  | 'reverted'
  /** Apply stopped with an error (unreachable, a failed migration, a stale plan, a refused gate). */
  | 'failed'
  /** Not started: the wave's budget was spent, or an earlier wave stopped or is soaking. */
  | 'untouched';

export interface TargetResult {
  target: string;
  wave: string;
  outcome: TargetOutcome;
  planHash?: string;
  migrationsApplied: string[];
  flagChanges: number;
  ledgerId: number | null;
  /** The ledger entry that put the flags back, and the flags it restored. */
  revert?: { ledgerId: number; flags: string[] };
  /** Migrations that stay applied although the target failed (forward only). */
  migrationsKept: string[];
  /** Flags kept as break-glass or an automatic rollback set them, where Git says otherwise (reconciled by PR). */
  held?: Array<{ key: string; by: 'break-glass' | 'auto-rollback'; ledgerId: number }>;
  /** The failed checks, or the error. */
  reason?: string;
  ledgerHead: { id: number; hash: string } | null;
}

export type WaveState = 'done' | 'stopped' | 'waiting' | 'untouched';

export interface WaveResult {
  name: string;
  state: WaveState;
  targets: number;
  failures: number;
  budget: Wave['budget'];
  /** For a wave waiting for the one before it to soak: when it may start. */
  startsAt?: string;
}

export interface FleetApplyReport {
  format: 1;
  kind: 'fleet-apply';
  environment: string;
  commit: string | null;
  wave?: string;
  shard?: Shard;
  waves: WaveResult[];
  targets: TargetResult[];
  /** Set when a wave spent its failure budget: the rollout stopped there. */
  stopped: { wave: string; failures: number; targets: number } | null;
  /** Set when the next wave waits for the previous one's soak: rerun after `until`. */
  waiting: { wave: string; after: string; until: string } | null;
  /** Every selected target is at the desired state. */
  complete: boolean;
}

export interface FleetApplyRequest extends Omit<ApplyRequest, 'planHash'>, SelectOptions {
  /** The reviewed fleet plan's hash (or the hash of the wave or shard selected). */
  planHash?: string;
  concurrency?: number;
  /** Called as each target finishes (for progress lines). */
  onTarget?: (result: TargetResult) => void;
}

export async function applyFleet(request: FleetApplyRequest): Promise<FleetApplyReport> {
  const selection = await selectFleet(request.env, request, request);
  const gates = request.gates ?? (await gatesFor(request.root, request.env, request.processEnv, request.repository, request.now));
  const concurrency = request.concurrency ?? defaultConcurrency(selection, request.processEnv);
  const expected = request.planHash ? await reviewedHashes(selection, request, gates, concurrency, request.planHash) : undefined;

  const results: TargetResult[] = [];
  const waves: WaveResult[] = [];
  let stopped: FleetApplyReport['stopped'] = null;
  let waiting: FleetApplyReport['waiting'] = null;
  // Soak and order between waves are this run's to keep only when it runs them all; a run of
  // one wave or shard (a job of the matrix) was started by a planner that checked them.
  const ordered = selection.wave === undefined;
  let previous: { wave: Wave; changed: boolean } | undefined;
  for (const wave of selection.selected) {
    if (!stopped && !waiting && ordered && previous && previous.wave.soakMs > 0) {
      const since = previous.changed ? gates.now : await lastChange(request.env, request, previous.wave.targets, concurrency);
      const until = soakEnd(since, previous.wave.soakMs, gates.now);
      if (until) waiting = { wave: wave.name, after: previous.wave.name, until: until.toISOString() };
    }
    if (stopped || waiting) {
      for (const target of wave.targets) results.push(untouched(target, wave.name));
      waves.push({ name: wave.name, state: waiting?.wave === wave.name ? 'waiting' : 'untouched', targets: wave.targets.length, failures: 0, budget: wave.budget, ...(waiting?.wave === wave.name ? { startsAt: waiting.until } : {}) });
      continue;
    }
    let failures = 0;
    const over = (): boolean => overBudget(wave.budget, failures, wave.targets.length);
    const done = await runPool(
      wave.targets,
      concurrency,
      async (target) => {
        const result = await applyTarget(request, gates, wave.name, target, expected?.get(target.name));
        if (result.outcome === 'failed' || result.outcome === 'reverted') failures++;
        request.onTarget?.(result);
        return result;
      },
      over,
    );
    const waveResults = wave.targets.map((target, i) => done[i] ?? untouched(target, wave.name));
    results.push(...waveResults);
    if (over()) stopped = { wave: wave.name, failures, targets: wave.targets.length };
    waves.push({ name: wave.name, state: over() ? 'stopped' : 'done', targets: wave.targets.length, failures, budget: wave.budget });
    previous = { wave, changed: waveResults.some((r) => r.outcome === 'applied') };
  }
  return {
    format: 1,
    kind: 'fleet-apply',
    environment: request.env.name,
    commit: request.commit,
    ...(selection.wave !== undefined ? { wave: selection.wave } : {}),
    ...(selection.shard ? { shard: selection.shard } : {}),
    waves,
    targets: results,
    stopped,
    waiting,
    complete: results.every((r) => r.outcome === 'applied' || r.outcome === 'unchanged'),
  };
}

/** Plan the selection again and hold it to the reviewed hash; then each target must still have its plan. */
async function reviewedHashes(selection: FleetSelection, request: FleetApplyRequest, gates: GateContext, concurrency: number, reviewed: string): Promise<Map<string, string>> {
  const plan = assembleFleetPlan(selection, request.commit, await planTargets(selection, request, gates, concurrency));
  if (!matchesPlanHash(plan.hash, reviewed)) {
    const part = describeSelection(selection);
    throw new StalePlanError(
      `the reviewed plan (${reviewed.slice(0, 12)}) no longer matches ${request.env.name}${part ? ` (${part})` : ''}: a target's desired or live state changed since, or a target appeared, went away or became (un)reachable (plan now ${plan.hash.slice(0, 12)}). Nothing was applied. Run rollout plan --env ${request.env.name} again and review the new plan.`,
    );
  }
  return new Map(plan.targets.flatMap((t) => (t.plan ? [[t.target, t.plan.hash] as const] : [])));
}

async function applyTarget(request: FleetApplyRequest, gates: GateContext, wave: string, target: FleetTarget, planHash: string | undefined): Promise<TargetResult> {
  const base = { target: target.name, wave, migrationsApplied: [] as string[], flagChanges: 0, ledgerId: null, migrationsKept: [] as string[], ledgerHead: null };
  try {
    const { planHash: _reviewed, ...single } = request;
    const { result, verified, ledgerHead } = await applyOperation({ ...single, env: targetEnvironment(request.env, target), gates, ...(planHash ? { planHash } : {}) });
    const held = result.held.map((c) => ({ key: c.key, by: c.breakGlass ? ('break-glass' as const) : ('auto-rollback' as const), ledgerId: (c.breakGlass ?? c.autoRollback)?.ledgerId ?? 0 }));
    const applied = {
      ...base,
      ...(held.length > 0 ? { held } : {}),
      planHash: result.plan.hash,
      migrationsApplied: result.migrationsApplied,
      flagChanges: result.flagChanges.length,
      ledgerId: result.ledgerId,
      ledgerHead,
    };
    if (verified && !verified.report.ok) {
      const failedChecks = verified.report.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => r.name);
      return {
        ...applied,
        outcome: 'reverted',
        reason: `check(s) failed: ${failedChecks.join(', ')}`,
        migrationsKept: verified.migrationsKept,
        ...(verified.revert ? { revert: { ledgerId: verified.revert.ledgerId, flags: verified.revert.reverted.map((r) => r.key) } } : {}),
      };
    }
    return { ...applied, outcome: result.ledgerId === null ? 'unchanged' : 'applied' };
  } catch (thrown) {
    return { ...base, outcome: 'failed', reason: toError(thrown).message };
  }
}

const untouched = (target: FleetTarget, wave: string): TargetResult => ({
  target: target.name,
  wave,
  outcome: 'untouched',
  migrationsApplied: [],
  flagChanges: 0,
  ledgerId: null,
  migrationsKept: [],
  ledgerHead: null,
});
