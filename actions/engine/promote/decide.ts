/**
 * What a promotion carries down, as a pure function of the upstream's live state, the
 * downstream's file, the ladder and the clock (docs/promotion.md):
 * - a flag the upstream holds further along moves the downstream ONE rung toward it,
 *   and only when the upstream has held that rung for its soak with passing checks;
 * - a rollback upstream is carried down at once (rollbacks are never gated);
 * - kill switches and plain values (no rollout) are carried as values;
 * - a flag new upstream arrives at `off` with the upstream's value when it has a
 *   rollout (it then climbs one rung per promotion), or with its value when it has none;
 * - a flag the upstream has not applied yet, or any flag while the upstream's checks
 *   fail, stays as it is, and the promotion says why.
 */
import equal from 'fast-deep-equal';
import type { Environment, FlagSpec, JsonValue } from '../config/model.ts';
import { evaluateMove } from '../stages/gates.ts';
import { comparePositions, describePosition, ladderPosition, nextRung, rungIndex, type LadderConfig, type Position } from '../stages/ladder.ts';
import type { UpstreamLive } from '../plan/upstream.ts';
import type { FileEdit, NewFlag } from './edit-file.ts';

export type { UpstreamLive } from '../plan/upstream.ts';

export interface PromotionInput {
  upstream: Environment;
  upstreamLive: UpstreamLive;
  downstream: Environment;
  ladder: LadderConfig;
  now: Date;
}

export type PromotionAction = 'move' | 'rollback' | 'value' | 'add' | 'hold' | 'same';

export interface FlagPromotion {
  key: string;
  action: PromotionAction;
  /** Downstream position before and after (undefined for flags without a rollout). */
  from?: Position;
  to?: Position;
  /** The upstream's position, for messages. */
  upstream?: Position;
  valueBefore?: JsonValue;
  valueAfter?: JsonValue;
  /** Full sentences with their numbers. */
  reasons: string[];
}

export interface PromotionDecision {
  flags: FlagPromotion[];
  edits: FileEdit[];
}

export function decidePromotion(input: PromotionInput): PromotionDecision {
  const flags: FlagPromotion[] = [];
  const edits: FileEdit[] = [];
  // A flag new downstream is written after the last flag before it that the downstream has.
  let previous: string | undefined;
  for (const [key, spec] of input.upstream.flags) {
    const here = input.downstream.flags.get(key);
    const decided = decideFlag({ ...input, key, spec, here, anchor: previous });
    if (here) previous = key;
    flags.push(decided.flag);
    edits.push(...decided.edits);
  }
  return { flags, edits };
}

/** One flag's promotion: the rules of the header, in order, each a named step. */
interface FlagInput extends PromotionInput {
  key: string;
  spec: FlagSpec;
  /** The downstream's flag, when it has one. */
  here: FlagSpec | undefined;
  anchor: string | undefined;
}

interface Decided {
  flag: FlagPromotion;
  edits: FileEdit[];
}

/** The upstream's applied state of one flag: its live value and position. */
interface Applied {
  value: JsonValue;
  /** Undefined for a flag without a rollout. */
  position: Position | undefined;
  enteredAt: Date | null;
}

function decideFlag(input: FlagInput): Decided {
  const { key, spec, here, upstreamLive } = input;
  const liveValue = upstreamLive.live.flags.get(key)?.value;
  const rollout = upstreamLive.live.rollouts.get(key);
  if (liveValue === undefined || !rollout) return holdNotApplied(input);
  const applied: Applied = { value: liveValue, position: ladderPosition(rollout), enteredAt: rollout.stageSince };
  if (spec.killSwitch) return carryKillSwitch(input, applied);
  if (!upstreamLive.checksPassing) return holdWhileChecksFail(input);
  if (!here) return addNewFlag(input, applied);
  if (!applied.position || !here.rollout) return carryPlainValue(input, here, applied);
  return followLadder(input, here, here.rollout, applied.position, applied);
}

const holdAt = (here: FlagSpec | undefined): Pick<FlagPromotion, 'from' | 'to'> => (here?.rollout ? { from: here.rollout, to: here.rollout } : {});
const same = (key: string, extra: Partial<FlagPromotion> = {}): Decided => ({ flag: { key, action: 'same', ...extra, reasons: [] }, edits: [] });

function holdNotApplied({ key, here, upstream }: FlagInput): Decided {
  const up = upstream.name;
  return { flag: { key, action: 'hold', ...holdAt(here), reasons: [`${key} is not applied in ${up} yet (no live value rollout wrote); apply ${up} first.`] }, edits: [] };
}

/** Kill switches are carried as values, whatever the gates and checks say. */
function carryKillSwitch(input: FlagInput, applied: Applied): Decided {
  const { key, spec, here, anchor, upstream } = input;
  const up = upstream.name;
  if (!here) {
    return {
      flag: { key, action: 'add', valueAfter: applied.value, reasons: [`${key} is a kill switch new in ${up}: added with ${up}'s value.`] },
      edits: [{ kind: 'add', key, flag: newFlag(spec, applied.value, undefined), ...(anchor ? { after: anchor } : {}) }],
    };
  }
  if (equal(here.value, applied.value)) return same(key);
  return {
    flag: { key, action: 'value', valueBefore: here.value, valueAfter: applied.value, reasons: [`${key} is a kill switch: its value is promoted as it is in ${up}, whatever any gate says.`] },
    edits: [{ kind: 'value', key, value: applied.value }],
  };
}

function holdWhileChecksFail({ key, here, upstream, upstreamLive }: FlagInput): Decided {
  const reason = `${upstream.name}'s checks are failing (${upstreamLive.checksReason ?? 'its latest apply was reverted'}); only kill switches are promoted until they pass.`;
  return { flag: { key, action: 'hold', ...holdAt(here), reasons: [reason] }, edits: [] };
}

/** New upstream: at off with the upstream's value when it has a rollout (it climbs from there), as it is otherwise. */
function addNewFlag({ key, spec, anchor, upstream, downstream }: FlagInput, applied: Applied): Decided {
  const up = upstream.name;
  const upPosition = applied.position;
  const arrival: Position | undefined = upPosition ? { stage: 'off' } : undefined;
  return {
    flag: {
      key,
      action: 'add',
      ...(arrival ? { to: arrival } : {}),
      ...(upPosition ? { upstream: upPosition } : {}),
      valueAfter: applied.value,
      reasons: [
        upPosition
          ? `${key} is new in ${up} (at ${describePosition(upPosition)}): it arrives in ${downstream.name} at off with ${up}'s value, and climbs one rung per promotion.`
          : `${key} is new in ${up} and has no rollout: it arrives in ${downstream.name} with ${up}'s value.`,
      ],
    },
    edits: [{ kind: 'add', key, flag: newFlag(spec, applied.value, arrival), ...(anchor ? { after: anchor } : {}) }],
  };
}

/** No rollout on one side: a plain value is carried; a rollout only upstream needs a hand edit downstream. */
function carryPlainValue({ key, upstream, downstream }: FlagInput, here: FlagSpec, applied: Applied): Decided {
  const up = upstream.name;
  if (applied.position && !here.rollout) {
    const reason = `${key} has a rollout in ${up} (${describePosition(applied.position)}) but none in ${downstream.name}; add rollout: to ${downstream.file} by hand.`;
    return { flag: { key, action: 'hold', upstream: applied.position, reasons: [reason] }, edits: [] };
  }
  if (equal(here.value, applied.value)) return same(key);
  return {
    flag: { key, action: 'value', valueBefore: here.value, valueAfter: applied.value, reasons: [`${key} has no rollout: its value is promoted as it is in ${up}.`] },
    edits: [{ kind: 'value', key, value: applied.value }],
  };
}

/** Both sides on the ladder: the same rung, a rollback to follow at once, or one gated step forward. */
function followLadder(input: FlagInput, here: FlagSpec, from: Position, upPosition: Position, applied: Applied): Decided {
  const { key, upstream, downstream } = input;
  const up = upstream.name;
  const valueDiffers = !equal(here.value, applied.value);
  const values = valueDiffers ? { valueBefore: here.value, valueAfter: applied.value } : {};
  const valueEdit: FileEdit[] = valueDiffers ? [{ kind: 'value', key, value: applied.value }] : [];
  const direction = comparePositions(upPosition, from);
  if (direction === 0) {
    if (!valueDiffers) return same(key, { from, to: from, upstream: upPosition });
    return {
      flag: { key, action: 'value', from, to: from, upstream: upPosition, ...values, reasons: [`${key} is at ${describePosition(from)} in both; its value is promoted as it is in ${up}.`] },
      edits: valueEdit,
    };
  }
  if (direction < 0) {
    const reason = `${up} rolled ${key} back to ${describePosition(upPosition)}; ${downstream.name} follows at once from ${describePosition(from)} (rollbacks are always allowed).`;
    return { flag: { key, action: 'rollback', from, to: upPosition, upstream: upPosition, ...values, reasons: [reason] }, edits: [{ kind: 'position', key, to: upPosition }, ...valueEdit] };
  }
  return stepForward(input, from, upPosition, applied, { values, valueEdit });
}

/** One rung forward, once the upstream has held that rung for its soak with passing checks. */
function stepForward(input: FlagInput, from: Position, upPosition: Position, applied: Applied, value: { values: Partial<FlagPromotion>; valueEdit: FileEdit[] }): Decided {
  const { key, upstream, downstream, ladder, now, upstreamLive } = input;
  const up = upstream.name;
  const down = downstream.name;
  const target = rungIndex(from, ladder) < 0 ? undefined : nextRung(from, ladder);
  if (!target) {
    const reason = `${describePosition(from)} is not a rung of this repository's ladder; fix ${downstream.file} (rollout validate says how).`;
    return { flag: { key, action: 'hold', from, to: from, upstream: upPosition, reasons: [reason] }, edits: [] };
  }
  // The upstream half of the gates: the target is not ahead of the upstream, which held it for its soak with passing checks.
  const verdict = evaluateMove({
    flagKey: key,
    environment: down,
    from,
    to: target,
    ladder,
    now,
    upstream: { environment: up, position: upPosition, ...(applied.enteredAt ? { enteredAt: applied.enteredAt } : {}), checksPassing: upstreamLive.checksPassing },
  });
  const upstreamGates = verdict.gates.filter((g) => g.gate === 'upstream' || g.gate === 'checks');
  const refused = upstreamGates.filter((g) => !g.passed);
  if (refused.length > 0) {
    const reasons = [`${key} stays at ${describePosition(from)} in ${down}: the next rung, ${describePosition(target)}, has not soaked in ${up} yet.`, ...refused.map((g) => g.reason)];
    return { flag: { key, action: 'hold', from, to: from, upstream: upPosition, reasons }, edits: [] };
  }
  const further = comparePositions(upPosition, target) > 0 ? ` (${up} is at ${describePosition(upPosition)}; one rung per promotion)` : '';
  return {
    flag: { key, action: 'move', from, to: target, upstream: upPosition, ...value.values, reasons: [`${key}: ${describePosition(from)} → ${describePosition(target)} in ${down}${further}.`, ...upstreamGates.map((g) => g.reason)] },
    edits: [{ kind: 'position', key, to: target }, ...value.valueEdit],
  };
}

/** A flag new downstream, written as the upstream file writes it, with the upstream's live value. */
function newFlag(spec: FlagSpec, value: JsonValue, position: Position | undefined): NewFlag {
  const segments = spec.rollout?.segments;
  return {
    value,
    ...(spec.offValue !== undefined ? { off_value: spec.offValue } : {}),
    ...(spec.contract ? { contract: spec.contract } : {}),
    ...(spec.killSwitch ? { kill_switch: true } : {}),
    ...(spec.owner ? { owner: spec.owner } : {}),
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.dependsOn.length > 0 ? { depends_on: spec.dependsOn.map((key) => dependencyEntry(spec, key)) } : {}),
    ...(position ? { rollout: { ...(position.stage === 'canary' ? { stage: 'canary', percent: position.percent ?? 0 } : { stage: position.stage }), ...(segments ? { segments } : {}) } } : {}),
  };
}

/** A depends_on entry as the upstream file writes it: the key, or `{ flag, for }` with its soak. */
function dependencyEntry(spec: FlagSpec, key: string): string | { flag: string; for: string } {
  const soak = spec.dependencySoaks?.get(key);
  return soak ? { flag: key, for: soak } : key;
}

/** Drop the edits of flags the downstream's own gates refuse, turning them into holds with the gates' reasons. */
export function holdRefused(decision: PromotionDecision, refused: ReadonlyMap<string, string[]>, downstream: string): PromotionDecision {
  if (refused.size === 0) return decision;
  return {
    edits: decision.edits.filter((e) => !refused.has(e.key)),
    flags: decision.flags.map((f) =>
      refused.has(f.key)
        ? { ...f, action: 'hold', to: f.from, reasons: [`${f.key} stays${f.from ? ` at ${describePosition(f.from)}` : ''}: ${downstream}'s own gates refuse the move.`, ...refused.get(f.key)!] }
        : f,
    ),
  };
}
