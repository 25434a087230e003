/**
 * The planner: a pure function of desired state (Git) × live state (database) ×
 * pending migrations × commit. No I/O, no clock: the same inputs give the same plan
 * and the same hash, so an apply can prove it is applying what was reviewed.
 */
import equal from 'fast-deep-equal';
import { parseDuration } from '../config/duration.ts';
import type { Environment, FlagSpec } from '../config/model.ts';
import { criteriaFor } from '../config/exit-criteria.ts';
import type { Measurement } from '../stages/exit-gate.ts';
import { evaluateMove, type DependencyState, type UpstreamState } from '../stages/gates.ts';
import { firstApplyVerdict, type FirstApplyInput } from '../stages/first-apply.ts';
import { DEFAULT_LADDER, comparePositions, ladderPosition, ladderPositionOrOff, type LadderConfig } from '../stages/ladder.ts';
import { desiredDefinition, plainValue, servesEveryUnit, servingOf, type ServingSpec } from '../serving/definitions.ts';
import { liveDefinitionOf, type LiveDefinition, type LiveFlag, type LiveRollout, type LiveState } from '../store/live-state.ts';
import { AUTO_ROLLBACK_KIND, isHeldByRollback, isReconciledRollback } from './rollback-hold.ts';
import { PlanHasher, canonicalJson } from './hash.ts';
import { impactOf } from './impact.ts';
import { diffJson } from './json-diff.ts';
import type { FlagChange, MigrationPlanPart, Plan, StoredPosition } from './types.ts';
import { valueIsOn } from '../config/flag-on.ts';

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
    positions: ReadonlyMap<string, { position: StoredPosition; enteredAt: Date | null }>;
    checksPassing: boolean;
    /** Why the upstream could not be read, if it could not: forward moves are then refused. */
    unreadable?: string;
  };
  /** Measurements of the monitors exit criteria name, by monitor (read by readPlan); none read means none taken. */
  measurements?: ReadonlyMap<string, readonly Measurement[]>;
  /** depends_on `{ flag, for }`: when each such dependency last moved out of off, from the ledger (read by readPlan). */
  dependenciesOnSince?: ReadonlyMap<string, Date>;
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
    const serving = want ? servingOf(desired, want) : undefined;
    const change = planFlag(key, want, serving, have, rollout);
    if (change === 'unmanaged') unmanaged.push(key);
    else if (change) {
      if (want && change.action !== 'hold') {
        const impact = impactOf(liveDefinitionOf(key, live), desiredDefinition(desired, want));
        if (impact.summary) change.impact = { share: impact.share, summary: impact.summary };
      }
      changes.push(change);
    }
    // planFlag found the desired value equal to the live one: no change, or a move of stage only.
    const sameValue = want !== undefined && have !== undefined && (change === undefined || (change !== 'unmanaged' && !change.valueChanged));
    const sameServing = change === undefined || change === 'unmanaged' || !('servingBefore' in change);
    hashFlag(hasher, key, want, have, rollout, sameValue, sameServing ? undefined : serving);
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
function hashFlag(
  hasher: PlanHasher,
  key: string,
  want: FlagSpec | undefined,
  have: LiveFlag | undefined,
  rollout: LiveRollout | undefined,
  sameValue: boolean,
  changedServing: ServingSpec | undefined,
): void {
  const liveText = have === undefined ? '-' : (have.text ?? canonicalJson(have.value));
  const desiredText = want === undefined ? '-' : sameValue ? '=' : canonicalJson(want.value);
  const position = want === undefined ? '-' : `${JSON.stringify(want.rollout?.stage ?? null)}\t${want.rollout?.percent ?? null}`;
  const recorded =
    rollout === undefined
      ? '-'
      : `${JSON.stringify(rollout.stage)}\t${rollout.percent}\t${rollout.recordedText ?? canonicalJson(rollout.recordedValue)}\t${JSON.stringify(rollout.recordedKind)}`;
  // Serving: Git's when it differs from the stored definition ("=" when it is the same), the stored one, the value table's row.
  const serving = want === undefined ? '-' : changedServing ? canonicalJson(changedServing) : '=';
  hasher.record(JSON.stringify(key), desiredText, position, liveText, recorded, serving, rollout?.definition?.text ?? '-', have?.stored?.text ?? '-');
}

export function positionOf(flag: FlagSpec): StoredPosition {
  return { stage: flag.rollout?.stage ?? null, percent: flag.rollout?.percent ?? null };
}

const livePosition = (rollout: LiveRollout | undefined): StoredPosition | null =>
  rollout ? { stage: rollout.stage, percent: rollout.percent } : null;

function planFlag(
  key: string,
  desired: FlagSpec | undefined,
  serving: ServingSpec | undefined,
  have: LiveFlag | undefined,
  rollout: LiveRollout | undefined,
): FlagChange | 'unmanaged' | undefined {
  const liveValue = have?.value;
  const stored = have?.stored?.value;
  const managed = rollout !== undefined;
  // Drift: the value table no longer holds what rollout wrote there.
  const drift = managed && !equal(stored ?? null, rollout.recordedValue) ? { recorded: rollout.recordedValue, live: stored ?? null } : undefined;
  const from = livePosition(rollout);

  if (!desired || !serving) {
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
      // What a revert of the removal puts back beside the value.
      ...(rollout.definition ? { servingBefore: servingSpecOf(rollout.definition) } : {}),
      ...(drift ? { drift } : {}),
    };
  }

  const to = positionOf(desired);
  const valueChanged = liveValue === undefined || !equal(liveValue, desired.value);
  const stageChanged = !from || from.stage !== to.stage || from.percent !== to.percent;
  // Git has caught up with a break-glass value or an auto-rollback's position: record that,
  // or the hold would outlive the reconcile PR (and the next forward move would not be gated as usual).
  // A break-glass override reaches every unit: Git has caught up once its file serves it to every unit
  // too, whichever field says so (a staged kill switch's off value at off); less would lift it for some.
  const override = rollout?.definition?.override;
  const caughtUp = override !== undefined ? servesEveryUnit({ value: desired.value, offValue: serving.offValue, stage: to.stage }, override) : !valueChanged;
  const reconciles = caughtUp && managed && (rollout.recordedKind === 'break-glass' || isReconciledRollback(rollout, to));
  // The stored definition differs from Git's (or there is none yet: a new flag, or a row an older version wrote).
  const servingChanged = !rollout?.definition || !sameServing(rollout.definition, serving, to.stage !== null);
  // What a plain read of the value table is to return: moved by a stage, value or off value change,
  // or a row an older version wrote holding value where the stage allows only the off value.
  const plainAfter = plainValue({ value: desired.value, offValue: serving.offValue, stage: to.stage });
  const plainChanged = stored === undefined || !equal(stored, plainAfter);
  if (!valueChanged && !stageChanged && !servingChanged && !plainChanged && !reconciles) return undefined;

  // Held only while the value table still holds what the break-glass or rollback wrote (no hand edit since).
  const untouched = stored !== undefined && equal(stored, rollout?.recordedValue ?? null);
  const heldByBreakGlass = !caughtUp && managed && rollout.recordedKind === 'break-glass' && untouched;
  // An exit criterion moved the flag back (auto-rollback): Git must first say where it is now; a move past it waits.
  const heldByRollback = managed && isHeldByRollback(rollout, from, to) && untouched;
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
    serving,
    ...(servingChanged ? { servingBefore: rollout?.definition ? servingSpecOf(rollout.definition) : null } : {}),
    ...(plainChanged ? { plain: { ...(stored !== undefined ? { before: stored } : {}), after: plainAfter } } : {}),
    ...(drift ? { drift } : {}),
    ...(heldByBreakGlass || (reconciles && rollout.recordedKind === 'break-glass') ? { breakGlass: { ledgerId: rollout.ledgerId } } : {}),
    ...(heldByRollback || (reconciles && rollout.recordedKind === AUTO_ROLLBACK_KIND) ? { autoRollback: { ledgerId: rollout.ledgerId } } : {}),
  };
}

const servingSpecOf = (d: LiveDefinition): ServingSpec => ({ offValue: d.offValue, segments: d.segments, killSwitch: d.killSwitch });

/** A plain flag's off value is its value: it moves with the value and is no serving change of its own. */
function sameServing(stored: LiveDefinition, wanted: ServingSpec, staged: boolean): boolean {
  return stored.killSwitch === wanted.killSwitch && (!staged || equal(stored.offValue, wanted.offValue)) && equal(stored.segments, wanted.segments);
}


/** A flag counts as on when it is past 'off' and its value is on (config/flag-on.ts). */
export function isOn(flag: FlagSpec): boolean {
  return flag.rollout?.stage !== 'off' && valueIsOn(flag.value);
}

/** Where the upstream holds a flag and since when, as the first-apply rule reads it. */
function upstreamForFirstApply(up: NonNullable<GateContext['upstream']>, key: string): FirstApplyInput['upstream'] {
  const held = up.positions.get(key);
  return {
    environment: up.environment,
    position: ladderPositionOrOff(held?.position ?? null),
    ...(held?.enteredAt ? { enteredAt: held.enteredAt } : {}),
    ...(up.unreadable !== undefined ? { unreadable: up.unreadable } : {}),
  };
}

/** Stage gates for one change: kill switches and rollbacks always pass; forward moves meet every gate. */
function attachVerdict(change: FlagChange, input: PlanInput, gates: GateContext): void {
  const desired = input.desired.flags.get(change.key);
  if (!desired || change.action === 'remove' || change.action === 'hold') return;
  // Flipping a kill switch is never gated; moving a staged one's rollout forward is an enablement, gated as any flag's.
  const forward = change.stageChanged && change.to?.stage != null && comparePositions(ladderPositionOrOff(change.to), ladderPositionOrOff(change.from)) > 0;
  if (desired.killSwitch && change.valueChanged && !forward) {
    change.gate = evaluateMove({ flagKey: change.key, environment: input.desired.name, killSwitch: true, from: ladderPositionOrOff(change.from), to: ladderPositionOrOff(change.to), now: gates.now });
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
      to: ladderPositionOrOff(change.to),
      adopt: gates.adopt === true,
      now: gates.now,
      ladder: gates.ladder ?? DEFAULT_LADDER,
      ...(up ? { upstream: upstreamForFirstApply(up, change.key) } : {}),
    });
    return;
  }
  const rollout = input.live.rollouts.get(change.key);
  const dependencies: DependencyState[] = desired.dependsOn.map((key) => {
    const dependency = input.desired.flags.get(key);
    // A plain dependency (no rollout) has no position on the ladder: its value decides whether it is on.
    const position = dependency ? ladderPosition(positionOf(dependency)) : undefined;
    const state: DependencyState = { flagKey: key, on: dependency ? isOn(dependency) : false, ...(position ? { position } : {}) };
    const soak = desired.dependencySoaks?.get(key);
    if (soak === undefined) return state;
    // The soak counts what is live: a dependency turned on by this same plan has been on for nothing yet.
    const liveRollout = input.live.rollouts.get(key);
    const liveOn = liveRollout ? liveRollout.stage !== 'off' : input.live.flags.has(key);
    const since = gates.dependenciesOnSince?.get(key);
    return { ...state, soakMs: parseDuration(soak) ?? 0, ...(liveOn && since ? { onSince: since } : {}) };
  });
  let upstream: UpstreamState | undefined;
  // An unreadable upstream has no positions and no check results: say that, not "at off" and "failing" (issue 13, defect 4).
  if (gates.upstream && gates.upstream.unreadable === undefined) {
    const held = gates.upstream.positions.get(change.key);
    upstream = {
      environment: gates.upstream.environment,
      position: ladderPositionOrOff(held?.position ?? null),
      ...(held?.enteredAt ? { enteredAt: held.enteredAt } : {}),
      checksPassing: gates.upstream.checksPassing,
    };
  }
  const exitCriteria = criteriaFor(input.desired, change.key, change.from?.stage ?? null).criteria.map((c) => ({ ...c, measurements: gates.measurements?.get(c.monitor) ?? [] }));
  change.gate = evaluateMove({
    flagKey: change.key,
    environment: input.desired.name,
    exitCriteria,
    from: ladderPositionOrOff(change.from),
    to: ladderPositionOrOff(change.to),
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
