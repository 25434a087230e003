/** The revert policy, pure: which parts of an applied flag change a failed-checks revert undoes. */
import { describe, expect, it } from 'vitest';
import { revertStep } from '../../actions/engine/checks/revert-policy.ts';
import type { FlagChange, StoredPosition } from '../../actions/engine/plan/types.ts';
import type { ServingSpec } from '../../actions/engine/serving/definitions.ts';

const canary = (percent: number): StoredPosition => ({ stage: 'canary', percent });
const plain: StoredPosition = { stage: null, percent: null };
const SERVING: ServingSpec = { offValue: false, segments: [], killSwitch: false };
const INTERNAL: ServingSpec = { offValue: false, segments: [{ name: 'internal', attributes: { role: ['staff'] } }], killSwitch: false };

const change = (over: Partial<FlagChange>): FlagChange => ({
  key: 'f',
  action: 'change',
  before: true,
  after: true,
  valueChanged: false,
  diff: [],
  from: plain,
  to: plain,
  stageChanged: false,
  killSwitch: false,
  serving: SERVING,
  ...over,
});

describe('revertStep', () => {
  it('undoes a raised stage, a value turned on and a value changed while on', () => {
    expect(revertStep(change({ from: canary(5), to: canary(25), stageChanged: true }))).toEqual({ key: 'f', target: { value: true, position: canary(5), serving: SERVING }, kept: [] });
    expect(revertStep(change({ before: false, after: true, valueChanged: true })).target).toEqual({ value: false, position: plain, serving: SERVING });
    expect(revertStep(change({ before: { epsilon: 0.1 }, after: { epsilon: 0.9 }, valueChanged: true })).target).toMatchObject({ value: { epsilon: 0.1 } });
    // A change of a value that stays off is undone too: nothing about it is a rollback.
    expect(revertStep(change({ before: { enabled: false, n: 1 }, after: { enabled: false, n: 2 }, valueChanged: true })).kept).toEqual([]);
  });

  it('keeps a lowered stage, a stage moved to off, and a flag turned off, writing nothing', () => {
    const back = revertStep(change({ from: canary(50), to: canary(5), stageChanged: true }));
    expect(back.target).toBeUndefined();
    expect(back.kept).toEqual([{ key: 'f', part: 'stage', move: 'rollback', reason: 'moved back from canary 50% to canary 5%: a rollback is never reverted.' }]);
    expect(revertStep(change({ from: { stage: 'full', percent: null }, to: { stage: 'off', percent: null }, stageChanged: true })).target).toBeUndefined();
    const off = revertStep(change({ before: { enabled: true }, after: { enabled: false }, valueChanged: true }));
    expect(off).toMatchObject({ kept: [{ part: 'value', move: 'turned-off' }] });
    expect(off.target).toBeUndefined();
  });

  it('keeps a kill switch tripped (added tripped too), and undoes its release', () => {
    const trip = revertStep(change({ killSwitch: true, before: { enabled: false }, after: { enabled: true }, valueChanged: true }));
    expect(trip).toMatchObject({ kept: [{ part: 'value', move: 'kill-switch-trip' }] });
    expect(trip.target).toBeUndefined();
    const added = revertStep(change({ action: 'add', killSwitch: true, before: undefined, after: { enabled: true }, valueChanged: true, from: null }));
    expect(added).toMatchObject({ kept: [{ part: 'flag', move: 'kill-switch-trip' }] });
    expect(added.target).toBeUndefined();
    expect(revertStep(change({ killSwitch: true, before: { enabled: true }, after: { enabled: false }, valueChanged: true })).target).toMatchObject({ value: { enabled: true } });
  });

  it('a staged kill switch: its stage raised (the normal path to more units) is undone, lowered is kept', () => {
    const ks = { killSwitch: true, before: { enabled: false }, after: { enabled: false } };
    expect(revertStep(change({ ...ks, from: canary(5), to: canary(25), stageChanged: true })).target).toMatchObject({ position: canary(5) });
    expect(revertStep(change({ ...ks, from: canary(25), to: canary(5), stageChanged: true })).target).toBeUndefined();
  });

  it('mixed: keeps the part that moved back and undoes the part that moved forward', () => {
    // Lowered while its value changed: the stage stays, the value goes back, the serving part goes with the stage.
    expect(
      revertStep(change({ from: canary(50), to: canary(25), stageChanged: true, before: { limit: 10 }, after: { limit: 20 }, valueChanged: true, servingBefore: INTERNAL })),
    ).toMatchObject({ target: { value: { limit: 10 }, position: canary(25), serving: SERVING }, kept: [{ part: 'stage' }] });
    // Raised while turned off: the value stays off, the stage and serving part go back.
    expect(revertStep(change({ from: canary(5), to: canary(25), stageChanged: true, before: true, after: false, valueChanged: true, servingBefore: INTERNAL }))).toMatchObject({
      target: { value: false, position: canary(5), serving: INTERNAL },
      kept: [{ part: 'value', move: 'turned-off' }],
    });
    // Turned off with a new off value: both stay (the serving part goes with the value when the stage did not move).
    expect(revertStep(change({ before: true, after: false, valueChanged: true, servingBefore: INTERNAL })).target).toBeUndefined();
  });

  it('a move to or from a plain value is no rollback; add and remove are undone; a reconcile is kept', () => {
    expect(revertStep(change({ from: canary(25), to: plain, stageChanged: true })).target).toMatchObject({ position: canary(25) });
    expect(revertStep(change({ action: 'add', before: undefined, after: 1, valueChanged: true, from: null }))).toEqual({ key: 'f', target: { position: null, serving: SERVING }, kept: [] });
    expect(revertStep(change({ action: 'remove', before: 1, after: undefined, valueChanged: true, to: null, serving: undefined, servingBefore: SERVING })).target).toEqual({ value: 1, position: plain, serving: SERVING });
    const reconcile = revertStep(change({ action: 'reconcile', killSwitch: true, before: { enabled: true }, after: { enabled: true }, breakGlass: { ledgerId: 7 } }));
    expect(reconcile).toEqual({ key: 'f', kept: [{ key: 'f', part: 'flag', move: 'reconcile', reason: 'Git records a break-glass value (ledger #7): a move toward safety is never reverted.' }] });
  });
});
