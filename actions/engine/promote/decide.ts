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
import { comparePositions, describePosition, nextRung, rungIndex, type LadderConfig, type Position } from '../stages/ladder.ts';
import type { LiveState } from '../store/live-state.ts';
import type { FileEdit, NewFlag } from './edit-file.ts';

export interface UpstreamLive {
  environment: string;
  live: LiveState;
  /** False when the upstream's latest apply was reverted by its checks. */
  checksPassing: boolean;
  /** Why checks count as failing, for messages. */
  checksReason?: string;
}

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
  const { upstream, downstream, upstreamLive, ladder, now } = input;
  const up = upstream.name;
  const down = downstream.name;
  const flags: FlagPromotion[] = [];
  const edits: FileEdit[] = [];
  let previous: string | undefined;
  for (const [key, spec] of upstream.flags) {
    const here = downstream.flags.get(key);
    const liveValue = upstreamLive.live.flags.get(key)?.value;
    const rollout = upstreamLive.live.rollouts.get(key);
    const anchor = previous;
    if (here) previous = key;

    if (liveValue === undefined || !rollout) {
      flags.push({ key, action: 'hold', ...(here?.rollout ? { from: here.rollout, to: here.rollout } : {}), reasons: [`${key} is not applied in ${up} yet (no live value rollout wrote); apply ${up} first.`] });
      continue;
    }
    const upPosition: Position | undefined = rollout.stage === null ? undefined : rollout.stage === 'canary' ? { stage: 'canary', percent: rollout.percent ?? 0 } : { stage: rollout.stage };

    if (spec.killSwitch) {
      if (!here) {
        edits.push({ kind: 'add', key, flag: newFlag(spec, liveValue, undefined), ...(anchor ? { after: anchor } : {}) });
        flags.push({ key, action: 'add', valueAfter: liveValue, reasons: [`${key} is a kill switch new in ${up}: added with ${up}'s value.`] });
      } else if (!equal(here.value, liveValue)) {
        edits.push({ kind: 'value', key, value: liveValue });
        flags.push({ key, action: 'value', valueBefore: here.value, valueAfter: liveValue, reasons: [`${key} is a kill switch: its value is promoted as it is in ${up}, whatever any gate says.`] });
      } else flags.push({ key, action: 'same', reasons: [] });
      continue;
    }

    if (!upstreamLive.checksPassing) {
      flags.push({ key, action: 'hold', ...(here?.rollout ? { from: here.rollout, to: here.rollout } : {}), reasons: [`${up}'s checks are failing (${upstreamLive.checksReason ?? 'its latest apply was reverted'}); only kill switches are promoted until they pass.`] });
      continue;
    }

    if (!here) {
      const arrival: Position | undefined = upPosition ? { stage: 'off' } : undefined;
      edits.push({ kind: 'add', key, flag: newFlag(spec, liveValue, arrival), ...(anchor ? { after: anchor } : {}) });
      flags.push({
        key,
        action: 'add',
        ...(arrival ? { to: arrival } : {}),
        ...(upPosition ? { upstream: upPosition } : {}),
        valueAfter: liveValue,
        reasons: [
          arrival
            ? `${key} is new in ${up} (at ${describePosition(upPosition!)}): it arrives in ${down} at off with ${up}'s value, and climbs one rung per promotion.`
            : `${key} is new in ${up} and has no rollout: it arrives in ${down} with ${up}'s value.`,
        ],
      });
      continue;
    }

    const valueDiffers = !equal(here.value, liveValue);
    if (!upPosition || !here.rollout) {
      if (upPosition && !here.rollout) {
        flags.push({ key, action: 'hold', upstream: upPosition, reasons: [`${key} has a rollout in ${up} (${describePosition(upPosition)}) but none in ${down}; add rollout: to ${downstream.file} by hand.`] });
      } else if (valueDiffers) {
        edits.push({ kind: 'value', key, value: liveValue });
        flags.push({ key, action: 'value', valueBefore: here.value, valueAfter: liveValue, reasons: [`${key} has no rollout: its value is promoted as it is in ${up}.`] });
      } else flags.push({ key, action: 'same', reasons: [] });
      continue;
    }

    const from: Position = here.rollout;
    const direction = comparePositions(upPosition, from);
    const values = valueDiffers ? { valueBefore: here.value, valueAfter: liveValue } : {};
    if (direction === 0) {
      if (valueDiffers) {
        edits.push({ kind: 'value', key, value: liveValue });
        flags.push({ key, action: 'value', from, to: from, upstream: upPosition, ...values, reasons: [`${key} is at ${describePosition(from)} in both; its value is promoted as it is in ${up}.`] });
      } else flags.push({ key, action: 'same', from, to: from, upstream: upPosition, reasons: [] });
      continue;
    }
    if (direction < 0) {
      edits.push({ kind: 'position', key, to: upPosition });
      if (valueDiffers) edits.push({ kind: 'value', key, value: liveValue });
      flags.push({
        key,
        action: 'rollback',
        from,
        to: upPosition,
        upstream: upPosition,
        ...values,
        reasons: [`${up} rolled ${key} back to ${describePosition(upPosition)}; ${down} follows at once from ${describePosition(from)} (rollbacks are always allowed).`],
      });
      continue;
    }
    const target = rungIndex(from, ladder) < 0 ? undefined : nextRung(from, ladder);
    if (!target) {
      flags.push({ key, action: 'hold', from, to: from, upstream: upPosition, reasons: [`${describePosition(from)} is not a rung of this repository's ladder; fix ${downstream.file} (rollout validate says how).`] });
      continue;
    }
    // The upstream half of the gates: the target is not ahead of the upstream, which held it for its soak with passing checks.
    const verdict = evaluateMove({
      flagKey: key,
      environment: down,
      from,
      to: target,
      ladder,
      now,
      upstream: { environment: up, position: upPosition, ...(rollout.stageSince ? { enteredAt: rollout.stageSince } : {}), checksPassing: upstreamLive.checksPassing },
    });
    const upstreamGates = verdict.gates.filter((g) => g.gate === 'upstream' || g.gate === 'checks');
    const refused = upstreamGates.filter((g) => !g.passed);
    if (refused.length > 0) {
      flags.push({
        key,
        action: 'hold',
        from,
        to: from,
        upstream: upPosition,
        reasons: [`${key} stays at ${describePosition(from)} in ${down}: the next rung, ${describePosition(target)}, has not soaked in ${up} yet.`, ...refused.map((g) => g.reason)],
      });
      continue;
    }
    edits.push({ kind: 'position', key, to: target });
    if (valueDiffers) edits.push({ kind: 'value', key, value: liveValue });
    const further = comparePositions(upPosition, target) > 0 ? ` (${up} is at ${describePosition(upPosition)}; one rung per promotion)` : '';
    flags.push({
      key,
      action: 'move',
      from,
      to: target,
      upstream: upPosition,
      ...values,
      reasons: [`${key}: ${describePosition(from)} → ${describePosition(target)} in ${down}${further}.`, ...upstreamGates.map((g) => g.reason)],
    });
  }
  return { flags, edits };
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
