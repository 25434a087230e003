/**
 * The hold an automatic stage rollback leaves (ledger kind 'auto-rollback'): while Git still
 * asks for a position above the one the flag was moved back to, apply leaves the flag where it
 * is and plan shows it as a hold to reconcile by PR. A desired position at or below the live one
 * is a normal change (a rollback, or Git catching up). Once Git records the position, the plan's
 * change is a reconcile (the same as for a break-glass value): apply records it, so that the next
 * forward move is gated as usual.
 */
import { comparePositions, ladderPositionOrOff } from '../stages/ladder.ts';
import type { LiveRollout } from '../store/live-state.ts';
import type { StoredPosition } from './types.ts';

export const AUTO_ROLLBACK_KIND = 'auto-rollback';

export function isHeldByRollback(rollout: LiveRollout, from: StoredPosition | null, to: StoredPosition): boolean {
  if (rollout.recordedKind !== AUTO_ROLLBACK_KIND || !from) return false;
  return comparePositions(ladderPositionOrOff(to), ladderPositionOrOff(from)) > 0;
}

/** Whether Git now says exactly where an auto-rollback left the flag (so the hold can be lifted). */
export function isReconciledRollback(rollout: LiveRollout, desired: StoredPosition): boolean {
  return rollout.recordedKind === AUTO_ROLLBACK_KIND && rollout.stage === desired.stage && (rollout.percent ?? null) === (desired.percent ?? null);
}

