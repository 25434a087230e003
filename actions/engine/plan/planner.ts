/**
 * The planner: a pure function of desired state (Git) × live state (database) ×
 * pending migrations × commit. No I/O, no clock: the same inputs give the same plan
 * and the same hash, so an apply can prove it is applying what was reviewed.
 */
import equal from 'fast-deep-equal';
import type { Environment, FlagSpec, JsonValue } from '../config/model.ts';
import type { LiveRollout, LiveState } from '../store/live-state.ts';
import { planHash } from './hash.ts';
import { diffJson } from './json-diff.ts';
import type { FlagChange, MigrationPlanPart, Plan, Position } from './types.ts';

export interface PlanInput {
  desired: Environment;
  live: LiveState;
  migrations: MigrationPlanPart;
  commit: string | null;
}

export function buildPlan(input: PlanInput): Plan {
  const { desired, live } = input;
  const changes: FlagChange[] = [];
  const unmanaged: string[] = [];
  const keys = new Set<string>([...desired.flags.keys(), ...live.flags.keys(), ...live.rollouts.keys()]);
  for (const key of [...keys].sort()) {
    const change = planFlag(key, desired.flags.get(key), live.flags.get(key)?.value, live.rollouts.get(key));
    if (change === 'unmanaged') unmanaged.push(key);
    else if (change) changes.push(change);
  }
  const count = (action: FlagChange['action']): number => changes.filter((c) => c.action === action).length;
  const summary = {
    add: count('add'),
    change: count('change'),
    remove: count('remove'),
    hold: count('hold'),
    drift: changes.filter((c) => c.drift).length,
    migrations: input.migrations.pending.length,
    blocked: input.migrations.blockers.length > 0,
  };
  const hash = planHash({
    environment: desired.name,
    commit: input.commit,
    flagTable: live.flagTable,
    desired: [...desired.flags.values()].map((f) => [f.key, f.value, positionOf(f)]),
    live: [...live.flags.entries()].map(([k, v]) => [k, v.value]),
    rollouts: [...live.rollouts.entries()].map(([k, r]) => [k, r.stage, r.percent, r.recordedValue, r.recordedKind]),
    migrations: input.migrations.pending.map((m) => [m.version, m.checksum]),
    blockers: input.migrations.blockers,
  });
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
    if (!managed) return 'unmanaged';
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
  if (!valueChanged && !stageChanged) return undefined;

  const heldByBreakGlass = valueChanged && managed && rollout.recordedKind === 'break-glass' && liveValue !== undefined && equal(liveValue, rollout.recordedValue);
  return {
    key,
    action: heldByBreakGlass ? 'hold' : liveValue === undefined ? 'add' : 'change',
    ...(liveValue !== undefined ? { before: liveValue } : {}),
    after: desired.value,
    valueChanged,
    diff: valueChanged ? diffJson(liveValue, desired.value) : [],
    from,
    to,
    stageChanged,
    killSwitch: desired.killSwitch,
    ...(drift ? { drift } : {}),
    ...(heldByBreakGlass ? { breakGlass: { ledgerId: rollout.ledgerId } } : {}),
  };
}
