import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LADDER,
  SEED_001_LADDER,
  SEED_004_LADDER,
  SEED_004_NAMES,
  STAGES,
  describeLadder,
  describeSoaks,
  fromSeed001,
  fromSeed004,
  nextRung,
  resolveLadder,
  stageIndex,
  toSeed001,
  toSeed004,
} from '../../actions/engine/stages/index.ts';

describe('ladder', () => {
  it('keeps the stage order off → dark → shadow → canary → full', () => {
    expect(STAGES).toEqual(['off', 'dark', 'shadow', 'canary', 'full']);
    expect(stageIndex('canary')).toBe(3);
    expect(describeLadder(DEFAULT_LADDER)).toBe('off → dark → shadow → canary 5% → canary 25% → canary 50% → canary 100% → full');
    expect(describeSoaks(DEFAULT_LADDER)).toEqual(['dark: 1 h', 'shadow: 1 h', 'canary 5%: 24 h', 'canary 25%: 24 h', 'canary 50%: 24 h', 'canary 100%: 24 h', 'full: 0 ms']);
    expect(nextRung({ stage: 'full' }, DEFAULT_LADDER)).toBeUndefined();
  });

  it('resolves a repository ladder over the defaults', () => {
    const { ladder, problems } = resolveLadder({ canary_steps: [10, 50, 100], skip: ['shadow'], soak: { dark: '30min', canary: '2d', canary_steps: { '50': '72h' } } });
    expect(problems).toEqual([]);
    expect(describeLadder(ladder)).toBe('off → dark → canary 10% → canary 50% → canary 100% → full');
    expect(describeSoaks(ladder)).toEqual(['dark: 30 min', 'canary 10%: 2 d', 'canary 50%: 3 d', 'canary 100%: 2 d', 'full: 0 ms']);
    expect(resolveLadder().ladder).toEqual(DEFAULT_LADDER);
  });

  it('reports every problem in a ladder spec, each saying what is expected', () => {
    const { problems } = resolveLadder({ canary_steps: [25, 5], skip: ['canary'], soak: { dark: 'soon', shadow: 3, canary_steps: { '7': '1h' } } });
    expect(problems).toEqual([
      "Invalid canary_steps '[25,5]'. Expected strictly ascending percents from 0 (segments only) to 100, at most two decimals, like [5, 25, 50, 100].",
      'Invalid skip \'["canary"]\'. Expected a list of stages to leave out, from: dark, shadow.',
      "Invalid soak.canary_steps key '7'. Expected one of the canary steps: 5, 25, 50, 100.",
      "Invalid soak 'soon' for dark. Expected a duration like 30min, 1h or 2d.",
      "Invalid soak '3' for shadow. Expected a duration like 30min, 1h or 2d.",
    ]);
  });
});

describe("the seeds' stage names", () => {
  it('maps seed 004 onto the ladder and back', () => {
    expect(SEED_004_NAMES.map((name) => fromSeed004(name))).toEqual([
      { stage: 'off' },
      { stage: 'dark' },
      { stage: 'shadow' },
      { stage: 'canary', percent: 25 },
      { stage: 'full' },
    ]);
    for (const name of SEED_004_NAMES) expect(toSeed004(fromSeed004(name)!)).toBe(name);
    expect(fromSeed004('partial_active', DEFAULT_LADDER)).toEqual({ stage: 'canary', percent: 5 });
    expect(fromSeed004('half_active')).toBeUndefined();
    expect(describeLadder(SEED_004_LADDER)).toBe('off → dark → shadow → canary 25% → full');
  });

  it('maps seed 001 onto the ladder and back', () => {
    expect(['internal', '5%', '25%', '100%', 'off'].map(fromSeed001)).toEqual([
      { stage: 'dark' },
      { stage: 'canary', percent: 5 },
      { stage: 'canary', percent: 25 },
      { stage: 'full' },
      { stage: 'off' },
    ]);
    for (const name of ['internal', '5%', '25%', '100%', 'off']) expect(toSeed001(fromSeed001(name)!)).toBe(name);
    expect(fromSeed001('0%')).toBeUndefined();
    expect(fromSeed001('150%')).toBeUndefined();
    expect(toSeed001({ stage: 'shadow' })).toBeUndefined();
    expect(describeLadder(SEED_001_LADDER)).toBe('off → dark → canary 5% → canary 25% → full');
    expect(describeSoaks(SEED_001_LADDER)).toEqual(['dark: 24 h', 'canary 5%: 2 d', 'canary 25%: 3 d', 'full: 0 ms']);
  });
});
