/**
 * The planner: a pure function of desired state (Git) × live state (database) ×
 * pending migrations × commit. No I/O, no clock: the same inputs give the same plan
 * and the same hash, so an apply can prove it is applying what was reviewed.
 */
import equal from 'fast-deep-equal';
import type { Environment, FlagSpec, JsonValue } from '../config/model.ts';
import { criteriaFor } from '../config/exit-criteria.ts';
import type { Measurement } from '../stages/exit-gate.ts';
import { evaluateMove, type DependencyState, type UpstreamState } from '../stages/gates.ts';
import { firstApplyVerdict } from '../stages/first-apply.ts';
import { DEFAULT_LADDER, type LadderConfig, type Position as LadderPosition } from '../stages/ladder.ts';
import type { LiveFlag, LiveRollout, LiveState } from '../store/live-state.ts';
import { AUTO_ROLLBACK_KIND, isHeldByRollback, isReconciledRollback } from './rollback-hold.ts';
import { PlanHasher, canonicalJson } from './hash.ts';
import { diffJson } from './json-diff.ts';
import type { FlagChange, MigrationPlanPart, Plan, Position } from './types.ts';

export interface PlanInput {
  desired: Environment;
  live: LiveState;
  migrations: MigrationPlanPart;
  commit: string | null;
  /** Evaluate stage gates as of `now`; without it the plan carries no verdicts. Not part of the hash. */
  gates?: GateContext;
}

export interface GateContext {
  now: Date;
  ladder?: LadderConfig;
  /** The environment that promotes to this one, as read from its database. */
  upstream?: {
    environment: string;
    positions: ReadonlyMap<string, { position: Position; enteredAt: Date | null }>;
    checksPassing: boolean;
    /** Why the upstream could not be read, if it could not: forward moves are then refused. */
    unreadable?: string;
  };
  /** Measurements of the monitors exit criteria name, by monitor (read by readPlan); none read means none taken. */
  measurements?: ReadonlyMap<string, readonly Measurement[]>;
  /** The operator acknowledged that a first apply adopts forward positions its upstream has not reached (--adopt). */
  adopt?: boolean;
}

export function buildPlan(input: PlanInput): Plan {
  const { desired, live } = input;
  const changes: FlagChange[] = [];
  const unmanaged: string[] = [];
  const hasher = new PlanHasher();
  hasher.record('rollout plan 1', JSON.stringify(desired.name), JSON.stringify(input.commit), JSON.stringify(live.flagTable));
  const keys = new Set<string>([...desired.flags.keys(), ...live.flags.keys(), ...live.rollouts.keys()]);
  for (const key of [...keys].sort()) {
    const want = desired.flags.get(key);
    const have = live.flags.get(key);
    const rollout = live.rollouts.get(key);
    const change = planFlag(key, want, have?.value, rollout);
    if (change === 'unmanaged') unmanaged.push(key);
    else if (change) changes.push(change);
    // planFlag found the desired value equal to the live one: no change, or a move of stage only.
    const sameValue = want !== undefined && have !== undefined && (change === undefined || (change !== 'unmanaged' && !change.valueChanged));
    hashFlag(hasher, key, want, have, rollout, sameValue);
  }
  if (input.gates) for (const change of changes) attachVerdict(change, input, input.gates);
  const count = (action: FlagChange['action']): number => changes.filter((c) => c.action === action).length;
  const summary = {
    add: count('add'),
    change: count('change'),
    remove: count('remove'),
    hold: count('hold'),
    reconcile: count('reconcile'),
    drift: changes.filter((c) => c.drift).length,
    migrations: input.migrations.pending.length,
    blocked: input.migrations.blockers.length > 0,
    refused: changes.filter((c) => c.gate && !c.gate.allowed).length,
  };
  hasher.record(canonicalJson(input.migrations.pending.map((m) => [m.version, m.checksum])), canonicalJson(input.migrations.blockers));
  const hash = hasher.digest();
  return {
    format: 1,
    environment: desired.name,
    file: desired.file,
    commit: input.commit,
    flagTable: live.flagTable,
    hash,
    migrations: input.migrations,
    flags: changes,
    unmanaged,
    summary,
    noop: changes.every((c) => c.action === 'hold') && input.migrations.pending.length === 0,
  };
}

/**
 * One record per flag: desired value and position, live value, rollout row. A desired value
 * equal to the live one is written as "=" (the live text already says what it is), so an
 * unchanged flag is hashed from text the database wrote, with no JSON to build.
 */
function hashFlag(hasher: PlanHasher, key: string, want: FlagSpec | undefined, have: LiveFlag | undefined, rollout: LiveRollout | undefined, sameValue: boolean): void {
  const liveText = have === undefined ? '-' : (have.text ?? canonicalJson(have.value));
  const desiredText = want === undefined ? '-' : sameValue ? '=' : canonicalJson(want.value);
  const position = want === undefined ? '-' : `${JSON.stringify(want.rollout?.stage ?? null)}\t${want.rollout?.percent ?? null}`;
  const recorded =
    rollout === undefined
      ? '-'
      : `${JSON.stringify(rollout.stage)}\t${rollout.percent}\t${rollout.recordedText ?? canonicalJson(rollout.recordedValue)}\t${JSON.stringify(rollout.recordedKind)}`;
  hasher.record(JSON.stringify(key), desiredText, position, liveText, recorded);
}

export function positionOf(flag: FlagSpec): Position {
  return { stage: flag.rollout?.stage ?? null, percent: flag.rollout?.percent ?? null };
}

const livePosition = (rollout: LiveRollout | undefined): Position | null =>
  rollout ? { stage: rollout.stage, percent: rollout.percent } : null;

function planFlag(key: string, desired: FlagSpec | undefined, liveValue: JsonValue | undefined, rollout: LiveRollout | undefined): FlagChange | 'unmanaged' | undefined {
  const managed = rollout !== undefined;
  const drift = managed && !equal(liveValue ?? null, rollout.recordedValue) ? { recorded: rollout.recordedValue, live: liveValue ?? null } : undefined;
  const from = livePosition(rollout);

  if (!desired) {
    // A flag taken as it was (rollout import, ledger kind baseline) that Git does not name yet
    // was never written by rollout: it is not removed, only listed as not managed.
    if (!managed || rollout.recordedKind === 'baseline') return 'unmanaged';
    // Rollout managed this flag and Git no longer has it: remove, with the old value in the ledger.
    return {
      key,
      action: 'remove',
      ...(liveValue !== undefined ? { before: liveValue } : {}),
      valueChanged: liveValue !== undefined,
      diff: diffJson(liveValue, undefined),
      from,
      to: null,
      stageChanged: from?.stage != null,
      killSwitch: false,
      ...(drift ? { drift } : {}),
    };
  }

  const to = positionOf(desired);
  const valueChanged = liveValue === undefined || !equal(liveValue, desired.value);
  const stageChanged = !from || from.stage !== to.stage || from.percent !== to.percent;
  // Git has caught up with a break-glass value or an auto-rollback's position: record that,
  // or the hold would outlive the reconcile PR (and the next forward move would not be gated as usual).
  const reconciles = !valueChanged && managed && (rollout.recordedKind === 'break-glass' || isReconciledRollback(rollout, to));
  if (!valueChanged && !stageChanged && !reconciles) return undefined;

  const heldByBreakGlass = valueChanged && managed && rollout.recordedKind === 'break-glass' && liveValue !== undefined && equal(liveValue, rollout.recordedValue);
  // An exit criterion moved the flag back (auto-rollback): Git must first say where it is now; a move past it waits.
  const heldByRollback = managed && isHeldByRollback(rollout, from, to) && liveValue !== undefined && equal(liveValue, rollout.recordedValue);
  return {
    key,
    action: heldByBreakGlass || heldByRollback ? 'hold' : reconciles ? 'reconcile' : liveValue === undefined ? 'add' : 'change',
    ...(liveValue !== undefined ? { before: liveValue } : {}),
    after: desired.value,
    valueChanged,
    diff: valueChanged ? diffJson(liveValue, desired.value) : [],
    from,
    to,
    stageChanged,
    killSwitch: desired.killSwitch,
    ...(drift ? { drift } : {}),
    ...(heldByBreakGlass || (reconciles && rollout.recordedKind === 'break-glass') ? { breakGlass: { ledgerId: rollout.ledgerId } } : {}),
    ...(heldByRollback || (reconciles && rollout.recordedKind === AUTO_ROLLBACK_KIND) ? { autoRollback: { ledgerId: rollout.ledgerId } } : {}),
  };
}

const toLadder = (p: Position | null): LadderPosition =>
  !p || p.stage === null ? { stage: 'off' } : p.stage === 'canary' ? { stage: 'canary', percent: p.percent ?? 0 } : { stage: p.stage };

/** A flag counts as on when it is past 'off' and its value is not false / {enabled: false}. */
export function isOn(flag: FlagSpec): boolean {
  if (flag.rollout?.stage === 'off') return false;
  const value = flag.value;
  if (value === false || value === null) return false;
  if (typeof value === 'object' && !Array.isArray(value) && value.enabled === false) return false;
  return true;
}

/** Stage gates for one change: kill switches and rollbacks always pass; forward moves meet every gate. */
function attachVerdict(change: FlagChange, input: PlanInput, gates: GateContext): void {
  const desired = input.desired.flags.get(change.key);
  if (!desired || change.action === 'remove' || change.action === 'hold') return;
  if (desired.killSwitch && change.valueChanged) {
    change.gate = evaluateMove({ flagKey: change.key, environment: input.desired.name, killSwitch: true, from: toLadder(change.from), to: toLadder(change.to), now: gates.now });
    return;
  }
  if (!change.stageChanged || change.to?.stage == null) return;
  if (input.live.rollouts.size === 0) {
    // The first apply to an environment adopts what the file says (there is no history to gate
    // on), except a forward position its upstream has not reached: that needs --adopt. Every later move is gated.
    const up = gates.upstream;
    change.gate = firstApplyVerdict({
      flagKey: change.key,
      environment: input.desired.name,
      to: toLadder(change.to),
      adopt: gates.adopt === true,
      ...(up ? { upstream: { environment: up.environment, position: toLadder(up.positions.get(change.key)?.position ?? null), ...(up.unreadable !== undefined ? { unreadable: up.unreadable } : {}) } } : {}),
    });
    return;
  }
  const rollout = input.live.rollouts.get(change.key);
  const dependencies: DependencyState[] = desired.dependsOn.map((key) => {
    const dependency = input.desired.flags.get(key);
    return { flagKey: key, on: dependency ? isOn(dependency) : false, ...(dependency ? { position: toLadder(positionOf(dependency)) } : {}) };
  });
  let upstream: UpstreamState | undefined;
  // An unreadable upstream has no positions and no check results: say that, not "at off" and "failing" (issue 13, defect 4).
  if (gates.upstream && gates.upstream.unreadable === undefined) {
    const held = gates.upstream.positions.get(change.key);
    upstream = {
      environment: gates.upstream.environment,
      position: toLadder(held?.position ?? null),
      ...(held?.enteredAt ? { enteredAt: held.enteredAt } : {}),
      checksPassing: gates.upstream.checksPassing,
    };
  }
  const exitCriteria = criteriaFor(input.desired, change.key, change.from?.stage ?? null).criteria.map((c) => ({ ...c, measurements: gates.measurements?.get(c.monitor) ?? [] }));
  change.gate = evaluateMove({
    flagKey: change.key,
    environment: input.desired.name,
    exitCriteria,
    from: toLadder(change.from),
    to: toLadder(change.to),
    ladder: gates.ladder ?? DEFAULT_LADDER,
    ...(rollout?.stageSince ? { enteredAt: rollout.stageSince } : {}),
    now: gates.now,
    ...(upstream ? { upstream } : {}),
    dependencies,
  });
  if (gates.upstream?.unreadable && change.gate.kind === 'forward') {
    const up = gates.upstream.environment;
    const reason = `${up} (the upstream) could not be read: ${gates.upstream.unreadable}. Its position, soak and checks are unknown, so forward moves wait until it can be read; rollbacks and kill switches are not affected.`;
    change.gate = { ...change.gate, allowed: false, reasons: [reason, ...change.gate.reasons], gates: [{ gate: 'upstream', passed: false, reason }, ...change.gate.gates] };
  }
}
