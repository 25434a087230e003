/**
 * The hold an automatic stage rollback leaves (ledger kind 'auto-rollback'): while Git still
 * asks for a position above the one the flag was moved back to, apply leaves the flag where it
 * is and plan shows it as a hold to reconcile by PR. A desired position at or below the live one
 * is a normal change (a rollback, or Git catching up). Once Git records the position, apply
 * marks the row reconciled (reconcileRollbacks), so that the next forward move is gated as usual.
 */
import equal from 'fast-deep-equal';
import type { Environment } from '../config/model.ts';
import { comparePositions, type Position as LadderPosition } from '../stages/ladder.ts';
import type { FlagWrite } from '../store/flag-writer.ts';
import type { LedgerChange } from '../store/ledger.ts';
import type { LiveRollout, LiveState } from '../store/live-state.ts';
import type { Position } from './types.ts';

export const AUTO_ROLLBACK_KIND = 'auto-rollback';

export function isHeldByRollback(rollout: LiveRollout, from: Position | null, to: Position): boolean {
  if (rollout.recordedKind !== AUTO_ROLLBACK_KIND || !from) return false;
  return comparePositions(ladderOf(to), ladderOf(from)) > 0;
}

/** Whether Git now says exactly where an auto-rollback left the flag (so the hold can be lifted). */
export function isReconciledRollback(rollout: LiveRollout, desired: Position): boolean {
  return rollout.recordedKind === AUTO_ROLLBACK_KIND && rollout.stage === desired.stage && (rollout.percent ?? null) === (desired.percent ?? null);
}

const ladderOf = (p: Position): LadderPosition =>
  p.stage === null ? { stage: 'off' } : p.stage === 'canary' ? { stage: 'canary', percent: p.percent ?? 0 } : { stage: p.stage };

/**
 * The flags an auto-rollback held that Git now records, as ledger changes (action
 * 'reconcile') and writes of what is already live: apply commits them with its entry, which
 * lifts the hold (the row's recorded kind becomes apply) without moving anything.
 */
export function reconciledRollbacks(env: Environment, live: LiveState): { change: LedgerChange; write: FlagWrite }[] {
  const out: { change: LedgerChange; write: FlagWrite }[] = [];
  for (const [key, rollout] of [...live.rollouts].sort(([a], [b]) => a.localeCompare(b))) {
    const desired = env.flags.get(key);
    const have = live.flags.get(key);
    if (!desired || !have || !equal(have.value, desired.value)) continue;
    const position = { stage: desired.rollout?.stage ?? null, percent: desired.rollout?.percent ?? null };
    if (!isReconciledRollback(rollout, position)) continue;
    out.push({
      change: { subject: 'flag', key, action: 'reconcile', oldValue: have.value, newValue: have.value, oldStage: rollout.stage, newStage: rollout.stage, oldPercent: rollout.percent, newPercent: rollout.percent },
      write: { key, value: have.value, position: { stage: rollout.stage, percent: rollout.percent } },
    });
  }
  return out;
}
