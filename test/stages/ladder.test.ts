import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LADDER,
  SEED_001_LADDER,
  SEED_004_LADDER,
  SEED_004_NAMES,
  STAGES,
  comparePositions,
  describeLadder,
  describePosition,
  describeSoaks,
  fromSeed001,
  fromSeed004,
  nextRung,
  resolveLadder,
  samePosition,
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

describe('ladder validation, case by case', () => {
  const problemsOf = (spec: Parameters<typeof resolveLadder>[0]) => resolveLadder(spec).problems;
  const stepsProblem = (steps: unknown) =>
    `Invalid canary_steps '${JSON.stringify(steps)}'. Expected strictly ascending percents from 0 (segments only) to 100, at most two decimals, like [5, 25, 50, 100].`;

  it('an absent or empty spec is the default ladder with no problem', () => {
    for (const spec of [undefined, {}, { soak: {} }, { soak: { dark: '2h' } }]) expect(problemsOf(spec), JSON.stringify(spec)).toEqual([]);
  });

  it.each([
    [[0, 50, 100], 'off → dark → shadow → canary 0% → canary 50% → canary 100% → full'],
    [[12.5, 33.33, 100], 'off → dark → shadow → canary 12.5% → canary 33.33% → canary 100% → full'],
    [[100], 'off → dark → shadow → canary 100% → full'],
  ])('accepts canary steps %j', (steps, described) => {
    const { ladder, problems } = resolveLadder({ canary_steps: steps });
    expect(problems).toEqual([]);
    expect(describeLadder(ladder)).toBe(described);
  });

  it.each([[[]], [['5', 25]], [[-1, 50]], [[5, 101]], [[5.555, 50]], [[5, 5, 50]], [[50, 25]], ['5,25'], [{ 5: true }]])('refuses canary steps %j, keeping the default ones', (steps) => {
    const { ladder, problems } = resolveLadder({ canary_steps: steps });
    expect(problems).toEqual([stepsProblem(steps)]);
    expect(ladder.canarySteps).toEqual(DEFAULT_LADDER.canarySteps);
  });

  it('accepts skipping dark, shadow or both; refuses anything else', () => {
    expect(describeLadder(resolveLadder({ skip: ['dark'] }).ladder)).toBe('off → shadow → canary 5% → canary 25% → canary 50% → canary 100% → full');
    expect(describeLadder(resolveLadder({ skip: ['shadow', 'dark'] }).ladder)).toBe('off → canary 5% → canary 25% → canary 50% → canary 100% → full');
    expect(problemsOf({ skip: ['dark', 'canary'] })).toEqual(['Invalid skip \'["dark","canary"]\'. Expected a list of stages to leave out, from: dark, shadow.']);
    expect(problemsOf({ skip: 'dark' })).toEqual(['Invalid skip \'"dark"\'. Expected a list of stages to leave out, from: dark, shadow.']);
  });

  it('names the stage of every invalid soak, showing the value as written', () => {
    expect(problemsOf({ soak: { canary: 'soon', full: { hours: 1 }, canary_steps: { '25': 'later' } } })).toEqual([
      "Invalid soak 'later' for canary 25%. Expected a duration like 30min, 1h or 2d.",
      "Invalid soak 'soon' for canary. Expected a duration like 30min, 1h or 2d.",
      'Invalid soak \'{"hours":1}\' for full. Expected a duration like 30min, 1h or 2d.',
    ]);
  });

  it('refuses per-step soaks that are not a map', () => {
    for (const value of ['48h', ['48h'], null]) {
      expect(problemsOf({ soak: { canary_steps: value } }), JSON.stringify(value)).toEqual([
        `Invalid soak.canary_steps '${JSON.stringify(value)}'. Expected a map from canary percent to duration, like { "25": 48h }.`,
      ]);
    }
  });
});

describe('positions', () => {
  it('a percent on a stage other than canary means nothing', () => {
    expect(comparePositions({ stage: 'full', percent: 100 }, { stage: 'full' })).toBe(0);
    expect(samePosition({ stage: 'dark', percent: 5 }, { stage: 'dark', percent: 50 })).toBe(true);
    expect(comparePositions({ stage: 'canary', percent: 5 }, { stage: 'canary', percent: 25 })).toBeLessThan(0);
    expect(comparePositions({ stage: 'canary', percent: 5 }, { stage: 'canary' })).toBeGreaterThan(0);
  });

  it('are described as people read them, a canary without its percent too', () => {
    expect([{ stage: 'off' as const }, { stage: 'canary' as const, percent: 12.5 }, { stage: 'canary' as const }].map(describePosition)).toEqual(['off', 'canary 12.5%', 'canary ?%']);
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
    // As people write them: any case, spaces around, a space before %, up to two decimals.
    expect([' Internal ', 'OFF', '25 %', '12.5%', '12.55%'].map(fromSeed001)).toEqual([{ stage: 'dark' }, { stage: 'off' }, { stage: 'canary', percent: 25 }, { stage: 'canary', percent: 12.5 }, { stage: 'canary', percent: 12.55 }]);
    for (const name of ['12.555%', 'x25%', '25%x', '25', '2a%', '5.%']) expect(fromSeed001(name), name).toBeUndefined();
    expect(fromSeed001('150%')).toBeUndefined();
    expect(toSeed001({ stage: 'shadow' })).toBeUndefined();
    expect(describeLadder(SEED_001_LADDER)).toBe('off → dark → canary 5% → canary 25% → full');
    expect(describeSoaks(SEED_001_LADDER)).toEqual(['dark: 24 h', 'canary 5%: 2 d', 'canary 25%: 3 d', 'full: 0 ms']);
  });
});
