/**
 * The plan's blast radius: the share of units whose served value changes, computed from
 * the two definitions, agrees with what the one rule (rule.ts) actually serves 40,000 units
 * before and after; and the sentences a reviewer reads for the issue's own examples.
 */
import equal from 'fast-deep-equal';
import { describe, expect, it } from 'vitest';
import { impactOf } from '../../actions/engine/plan/impact.ts';
import type { FlagDefinition, Stage } from '../../packages/provider/src/definition.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';

const def = (stage: Stage | null, percent = 0, extra: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: 'shop.checkout',
  value: { enabled: true },
  offValue: { enabled: false },
  stage,
  percent,
  segments: [],
  killSwitch: false,
  ledgerId: null,
  ...extra,
});

const internal = { name: 'internal', keys: ['staff-1', 'staff-2'] };

/** Share (percent) of sampled units outside the segments whose served value differs. */
function measured(before: FlagDefinition, after: FlagDefinition, units = 40_000): number {
  let changed = 0;
  for (let i = 0; i < units; i++) {
    const unit = { targetingKey: `user-${i}` };
    if (!equal(evaluate(before, unit).value, evaluate(after, unit).value)) changed++;
  }
  return (changed / units) * 100;
}

describe('the blast radius of a flag change', () => {
  it.each([
    ['canary 5 → 25', def('canary', 5), def('canary', 25), 20],
    ['canary 25 → 5 (rollback)', def('canary', 25), def('canary', 5), 20],
    ['value edit at canary 25', def('canary', 25), def('canary', 25, { value: { enabled: true, v: 2 } }), 25],
    ['off value edit at canary 25', def('canary', 25), def('canary', 25, { offValue: { enabled: false, v: 2 } }), 75],
    ['off → dark', def('off'), def('dark', 0, { segments: [internal] }), 0],
    ['shadow → canary 5', def('shadow'), def('canary', 5), 5],
    ['canary 50 → full', def('canary', 50), def('full'), 50],
    ['full → off', def('full'), def('off'), 100],
    ['canary 12.5 → 37.25', def('canary', 12.5), def('canary', 37.25), 24.75],
    ['kill switch broken glass at canary 25', def('canary', 25), def('canary', 25, { override: { enabled: false } }), 25],
  ])('%s: the computed share is what the rule serves', (_name, before, after, share) => {
    const impact = impactOf(before, after);
    expect(impact.share).toBe(share);
    expect(Math.abs(measured(before, after) - share)).toBeLessThan(1);
  });

  it('says who switches, in the words the plan prints', () => {
    expect(impactOf(def('canary', 5), def('canary', 25)).summary).toBe('20% of units switch from the off value to the value');
    expect(impactOf(def('canary', 25), def('canary', 25, { value: { enabled: true, v: 2 } })).summary).toBe('25% of units see the new value');
    expect(impactOf(def('off'), def('dark', 0, { segments: [internal] })).summary).toBe("units in 'internal' switch from the off value to the value; no other unit is served anything new");
    expect(impactOf(def('dark', 0, { segments: [internal] }), def('canary', 5, { segments: [internal] })).summary).toBe('5% of other units switch from the off value to the value');
    expect(impactOf(def('canary', 25), def('off')).summary).toBe('25% of units switch back to the off value');
    expect(impactOf(def('canary', 50), def('full')).summary).toBe('50% of units switch from the off value to the value');
    expect(impactOf(def(null, 0, { value: 'blue' }), def(null, 0, { value: 'green' })).summary).toBe('every unit will see the new value');
    expect(impactOf(def('shadow'), def('shadow', 0, { value: { enabled: true, v: 2 } }))).toMatchObject({
      share: 0,
      shadowOnly: true,
      summary: 'no unit is served anything new: shadow computes the new value beside the off value',
    });
    expect(impactOf(def('off'), def('shadow')).summary).toBe('no unit is served anything new');
  });

  it('names the segments whose units change, apart from the share of everyone else', () => {
    const impact = impactOf(def('dark', 0, { segments: [internal] }), def('off', 0, { segments: [internal] }));
    expect(impact.share).toBe(0);
    expect(impact.segments).toEqual({ names: ['internal'], switch: 'on-to-off' });
    for (const key of internal.keys) expect(evaluate(def('off'), { targetingKey: key }).value).toEqual({ enabled: false });
  });

  it('says nothing for a removed flag, or an added one every unit gets (the plan says add or remove)', () => {
    expect(impactOf(def('canary', 5), undefined)).toMatchObject({ share: 0, summary: '' });
    expect(impactOf(undefined, def(null))).toMatchObject({ share: 100, summary: '' });
    expect(impactOf(undefined, def('full'))).toMatchObject({ share: 100, summary: '' });
  });

  it('says who an added flag short of full reaches, and the share matches what units are served', () => {
    const cases: [FlagDefinition, string][] = [
      [def('canary', 5), '5% of units will get the value; every other unit will get the off value'],
      [def('canary', 25, { segments: [internal] }), "units in 'internal' and 25% of other units will get the value; every other unit will get the off value"],
      [def('dark', 0, { segments: [internal] }), "units in 'internal' will get the value; every other unit will get the off value"],
      [def('off'), 'every unit will get the off value'],
      [def('shadow'), 'every unit will get the off value; shadow computes the value beside it'],
    ];
    for (const [after, summary] of cases) {
      const impact = impactOf(undefined, after);
      expect(impact.summary).toBe(summary);
      let on = 0;
      for (let i = 0; i < 40_000; i++) if (equal(evaluate(after, { targetingKey: `user-${i}` }).value, after.value)) on++;
      expect(Math.abs(on / 400 - impact.share)).toBeLessThan(0.5);
      for (const key of after.segments.flatMap((s) => s.keys ?? [])) expect(evaluate(after, { targetingKey: key }).value).toEqual(after.value);
    }
  });

  it('tells a new value from a new off value, and break-glass from the rest, group by group', () => {
    const offEdit = impactOf(def('canary', 25), def('canary', 25, { offValue: { enabled: false, v: 2 } }));
    expect(offEdit.parts).toEqual([{ switch: 'new-off-value', share: 75 }]);
    expect(offEdit.summary).toBe('75% of units see the new off value');
    const glass = { override: { enabled: false, glass: true } };
    const broken = impactOf(def('canary', 25), def('canary', 25, glass));
    expect(broken.parts).toEqual([{ switch: 'to-break-glass', share: 100 }]);
    expect(broken.summary).toBe('every unit will get the break-glass value');
    const released = impactOf(def('canary', 25, glass), def('canary', 25));
    expect(released.parts).toEqual([{ switch: 'from-break-glass', share: 100 }]);
    expect(released.summary).toBe('every unit will leave the break-glass value');
  });

  it('sees the units of a segment dropped from a dark flag go back to the off value', () => {
    const dropped = impactOf(def('dark', 0, { segments: [internal] }), def('dark'));
    expect(dropped.segments).toEqual({ names: ['internal'], switch: 'on-to-off' });
    expect(dropped.summary).toBe("units in 'internal' switch back to the off value; no other unit is served anything new");
    // Segments at canary: the share of everyone else is said apart from them.
    const both = impactOf(def('canary', 5, { segments: [internal] }), def('canary', 5, { segments: [internal], value: { enabled: true, v: 2 } }));
    expect(both.summary).toBe("units in 'internal' see the new value; 5% of other units see the new value");
    const full = impactOf(def('canary', 5, { segments: [internal] }), def('full', 0, { segments: [internal] }));
    expect(full.summary).toBe('95% of other units switch from the off value to the value');
  });

  it('a new flag: break-glass reaches every unit; shadow is shadow only; a plain one is not', () => {
    expect(impactOf(undefined, def('canary', 5, { override: { enabled: false } }))).toEqual({ share: 100, parts: [], segments: null, shadowOnly: false, summary: 'every unit will get the break-glass value' });
    expect(impactOf(undefined, def(null)).shadowOnly).toBe(false);
    expect(impactOf(undefined, def('shadow', 0, { segments: [internal] }))).toMatchObject({ share: 0, segments: null, shadowOnly: true });
    expect(impactOf(undefined, def('canary', 5)).segments).toBeNull();
    expect(impactOf(undefined, def('dark', 0, { segments: [internal] })).segments).toEqual({ names: ['internal'], switch: 'off-to-on' });
    expect(impactOf(undefined, def('canary', 5)).shadowOnly).toBe(false);
  });
});
