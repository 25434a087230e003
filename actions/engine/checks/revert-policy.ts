/**
 * What a failed-checks revert may undo, as one pure function of an applied flag change.
 *
 * A revert exists to take back what an apply pushed forward. It must never take back a move
 * toward safety made in that same apply: a rollback (stage or percent lowered), a flag turned
 * off, a kill switch tripped, or Git recording a break-glass trip or an auto-rollback
 * (reconcile). So each part of a change is judged on its own:
 * - position: lowered along the ladder → kept; raised, or a move to or from a plain value → undone;
 * - value: a kill switch turned on (tripped) or any other flag turned off (config/flag-on.ts) →
 *   kept; turned on, released, or changed while staying on or off → undone;
 * - serving part (off value, segments): goes with the part kept — kept when the position is,
 *   or when the value is and the position did not move; otherwise restored.
 * An added flag is removed again (a kill switch added tripped is kept); a removed one comes back.
 */
import { valueIsOn } from '../config/flag-on.ts';
import type { JsonValue } from '../config/model.ts';
import type { FlagChange, StoredPosition } from '../plan/types.ts';
import type { ServingSpec } from '../serving/definitions.ts';
import { comparePositions, describePosition, ladderPosition } from '../stages/ladder.ts';

/** Why a part of a change was kept: each is a move toward safety. */
export type KeptMove = 'rollback' | 'turned-off' | 'kill-switch-trip' | 'reconcile';

export interface KeptPart {
  key: string;
  /** stage: the position; value: the value; flag: the whole change. */
  part: 'stage' | 'value' | 'flag';
  move: KeptMove;
  /** One sentence, for the report and the ledger summary. */
  reason: string;
}

/** Where the revert leaves a flag: value undefined removes it. */
export interface RevertTarget {
  value?: JsonValue;
  position: StoredPosition | null;
  serving?: ServingSpec;
}

export interface RevertStep {
  key: string;
  /** What to write; absent when the whole change is kept (nothing to undo). */
  target?: RevertTarget;
  /** The parts of the change that stay as the apply made them. */
  kept: KeptPart[];
}

const json = (value: JsonValue | undefined): string => (value === undefined ? '(none)' : JSON.stringify(value));

/** The revert of one applied change (not a hold: a hold wrote nothing). */
export function revertStep(change: FlagChange): RevertStep {
  const { key } = change;
  const restoredServing = change.servingBefore ?? change.serving;
  const restoreAll: RevertTarget = { ...(change.before === undefined ? {} : { value: change.before }), position: change.from, ...(restoredServing ? { serving: restoredServing } : {}) };

  if (change.action === 'reconcile') {
    const what = change.breakGlass ? `a break-glass value (ledger #${change.breakGlass.ledgerId})` : `an auto-rollback (ledger #${change.autoRollback?.ledgerId ?? '?'})`;
    return { key, kept: [{ key, part: 'flag', move: 'reconcile', reason: `Git records ${what}: a move toward safety is never reverted.` }] };
  }
  if (change.action === 'add') {
    if (change.killSwitch && valueIsOn(change.after)) {
      return { key, kept: [{ key, part: 'flag', move: 'kill-switch-trip', reason: `kill switch added tripped (${json(change.after)}): a trip is never reverted.` }] };
    }
    return { key, target: restoreAll, kept: [] };
  }
  if (change.action !== 'change') return { key, target: restoreAll, kept: [] };

  const kept: KeptPart[] = [];
  const from = change.from && ladderPosition(change.from);
  const to = change.to && ladderPosition(change.to);
  const positionKept = change.stageChanged && from !== undefined && from !== null && to !== undefined && to !== null && comparePositions(to, from) < 0;
  if (positionKept) {
    kept.push({ key, part: 'stage', move: 'rollback', reason: `moved back from ${describePosition(from)} to ${describePosition(to)}: a rollback is never reverted.` });
  }
  const wasOn = valueIsOn(change.before);
  const isOn = valueIsOn(change.after);
  const valueKept = change.valueChanged && (change.killSwitch ? !wasOn && isOn : wasOn && !isOn);
  if (valueKept) {
    kept.push(
      change.killSwitch
        ? { key, part: 'value', move: 'kill-switch-trip', reason: `kill switch tripped (${json(change.before)} → ${json(change.after)}): a trip is never reverted.` }
        : { key, part: 'value', move: 'turned-off', reason: `turned off (${json(change.before)} → ${json(change.after)}): a move toward off is never reverted.` },
    );
  }
  if (kept.length === 0) return { key, target: restoreAll, kept };

  const servingKept = positionKept || !change.stageChanged;
  const undone = (change.valueChanged && !valueKept) || (change.stageChanged && !positionKept) || (change.servingBefore !== undefined && !servingKept);
  if (!undone) return { key, kept };
  const serving = servingKept ? change.serving : restoredServing;
  const target: RevertTarget = { value: valueKept ? change.after : change.before, position: positionKept ? change.to : change.from, ...(serving ? { serving } : {}) };
  return { key, target, kept };
}
