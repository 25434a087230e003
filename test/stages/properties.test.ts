/**
 * Property tests of the gates over random ladders, random sequences of stage moves and
 * clock advances, with the ledger's "entered at" kept the way apply keeps it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  comparePositions,
  evaluateMove,
  ladderRungs,
  nextRung,
  rungIndex,
  soakOf,
  type LadderConfig,
  type Position,
  type SkippableStage,
} from '../../actions/engine/stages/index.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 20, 10);

const ladderArb: fc.Arbitrary<LadderConfig> = fc
  .record({
    steps: fc.subarray([1, 5, 10, 25, 50, 75, 100], { minLength: 1 }),
    skip: fc.subarray<SkippableStage>(['dark', 'shadow']),
    soak: fc.record({ dark: fc.nat(48), shadow: fc.nat(48), canary: fc.nat(72), full: fc.nat(24) }),
    perStep: fc.dictionary(fc.constantFrom('1', '5', '25', '100'), fc.nat(96)),
  })
  .map(({ steps, skip, soak, perStep }) => ({
    canarySteps: steps,
    skip,
    soakMs: { dark: soak.dark * HOUR, shadow: soak.shadow * HOUR, canary: soak.canary * HOUR, full: soak.full * HOUR },
    canarySoakMs: Object.fromEntries(Object.entries(perStep).map(([percent, hours]) => [Number(percent), hours * HOUR])),
  }));

/** Every position a move may name: the rungs of any ladder, and a few that are on none. */
const positionArb: fc.Arbitrary<Position> = fc.oneof(
  fc.constantFrom<Position>({ stage: 'off' }, { stage: 'dark' }, { stage: 'shadow' }, { stage: 'full' }),
  fc.constantFrom(1, 5, 10, 25, 30, 50, 75, 100).map((percent): Position => ({ stage: 'canary', percent })),
);

/** Advance the clock, move to a named position, or try the next rung (so that runs climb far). */
type Step = { kind: 'advance'; hours: number } | { kind: 'move'; to: Position } | { kind: 'next' };
const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 80 }).map((hours): Step => ({ kind: 'advance', hours })) },
    { weight: 1, arbitrary: positionArb.map((to): Step => ({ kind: 'move', to })) },
    { weight: 4, arbitrary: fc.constant<Step>({ kind: 'next' }) },
  ),
  { minLength: 20, maxLength: 150 },
);

/** One environment's flag as apply keeps it: the position and when the ledger says it was entered. */
interface FlagState {
  position: Position;
  enteredAt: number | undefined;
}

describe('stage gates over random sequences of moves and clock advances', () => {
  it('never accept a move that skips a rung or leaves a rung before its soak', () => {
    let reachedFull = 0;
    fc.assert(
      fc.property(ladderArb, stepsArb, (ladder, steps) => {
        const rungs = ladderRungs(ladder);
        let now = START;
        const flag: FlagState = { position: { stage: 'off' }, enteredAt: undefined };
        /** Earliest time each rung was reached. */
        const firstReached = new Map<number, number>([[0, START]]);

        for (const step of steps) {
          if (step.kind === 'advance') {
            now += step.hours * HOUR;
            continue;
          }
          const to = step.kind === 'move' ? step.to : (nextRung(flag.position, ladder) ?? flag.position);
          const verdict = evaluateMove({ flagKey: 'f', ladder, from: flag.position, to, enteredAt: flag.enteredAt === undefined ? undefined : new Date(flag.enteredAt), now: new Date(now) });
          expect(verdict.reasons.length).toBeGreaterThan(0);
          if (!verdict.allowed) {
            expect(verdict.kind).toBe('forward');
            continue;
          }
          if (verdict.kind === 'forward') {
            // One rung at a time …
            expect(comparePositions(nextRung(flag.position, ladder)!, to)).toBe(0);
            // … after the position left has soaked its minimum.
            const needed = soakOf(flag.position, ladder);
            if (needed > 0) expect(now - flag.enteredAt!).toBeGreaterThanOrEqual(needed);
            const index = rungIndex(to, ladder);
            if (!firstReached.has(index)) firstReached.set(index, now);
          }
          if (verdict.kind !== 'unchanged') flag.enteredAt = now;
          flag.position = to;
        }
        if (firstReached.has(rungs.length - 1)) reachedFull += 1;

        // A rung is first reached no sooner than the sum of the soaks of every rung below it.
        for (const [index, at] of firstReached) {
          const soaks = rungs.slice(0, index).reduce((sum, rung) => sum + soakOf(rung, ladder), 0);
          expect(at - START).toBeGreaterThanOrEqual(soaks);
          for (let below = 1; below < index; below++) expect(firstReached.get(below)).toBeLessThanOrEqual(at);
        }
      }),
      { numRuns: 1_000 },
    );
    // The property is not vacuous: many runs climb the whole ladder.
    expect(reachedFull).toBeGreaterThan(100);
  });

  it('never put a downstream environment ahead of its upstream, nor move it before the upstream soaked there', () => {
    let productionForward = 0;
    const next = fc.constant(undefined);
    fc.assert(
      fc.property(ladderArb, fc.array(fc.tuple(fc.boolean(), fc.nat(50), fc.oneof(positionArb, next, next), fc.boolean()), { minLength: 20, maxLength: 150 }), (ladder, steps) => {
        let now = START;
        const staging: FlagState = { position: { stage: 'off' }, enteredAt: undefined };
        const production: FlagState = { position: { stage: 'off' }, enteredAt: undefined };
        for (const [inProduction, hours, named, checksPassing] of steps) {
          now += hours * HOUR;
          const target = inProduction ? production : staging;
          const to = named ?? nextRung(target.position, ladder) ?? target.position;
          const verdict = evaluateMove({
            flagKey: 'f',
            environment: inProduction ? 'production' : 'staging',
            ladder,
            from: target.position,
            to,
            enteredAt: target.enteredAt === undefined ? undefined : new Date(target.enteredAt),
            now: new Date(now),
            ...(inProduction ? { upstream: { environment: 'staging', position: staging.position, checksPassing, ...(staging.enteredAt === undefined ? {} : { enteredAt: new Date(staging.enteredAt) }) } } : {}),
          });
          if (!verdict.allowed) continue;
          if (inProduction && verdict.kind === 'forward') {
            productionForward += 1;
            expect(checksPassing).toBe(true);
            expect(comparePositions(to, staging.position)).toBeLessThanOrEqual(0);
            if (comparePositions(to, staging.position) === 0 && soakOf(to, ladder) > 0) expect(now - staging.enteredAt!).toBeGreaterThanOrEqual(soakOf(to, ladder));
          }
          if (verdict.kind !== 'unchanged') target.enteredAt = now;
          target.position = to;
        }
      }),
      { numRuns: 1_000 },
    );
    expect(productionForward).toBeGreaterThan(1_000);
  });

  it('never accept a forward move ahead of a dependency, or while it is off', () => {
    fc.assert(
      fc.property(ladderArb, positionArb, positionArb, fc.option(positionArb), fc.boolean(), fc.nat(100), (ladder, from, to, dependencyAt, on, hours) => {
        const verdict = evaluateMove({
          flagKey: 'f',
          ladder,
          from,
          to,
          enteredAt: new Date(START),
          now: new Date(START + hours * HOUR),
          dependencies: [{ flagKey: 'g', on, ...(dependencyAt ? { position: dependencyAt } : {}) }],
        });
        if (verdict.allowed && verdict.kind === 'forward') {
          expect(on).toBe(true);
          if (dependencyAt) {
            expect(dependencyAt.stage).not.toBe('off');
            expect(comparePositions(to, dependencyAt)).toBeLessThanOrEqual(0);
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('moves that are always allowed', () => {
  const upstreamArb = fc.option(fc.record({ environment: fc.constant('staging'), position: positionArb, checksPassing: fc.boolean() }), { nil: undefined });
  const dependenciesArb = fc.array(fc.record({ flagKey: fc.constant('g'), on: fc.boolean(), position: positionArb }), { maxLength: 3 });
  const whenArb = fc.option(fc.integer({ min: -100, max: 100 }), { nil: undefined });

  it('never refuses a rollback, whatever the ladder, clock, upstream or dependencies', () => {
    fc.assert(
      fc.property(ladderArb, positionArb, positionArb, whenArb, upstreamArb, dependenciesArb, (ladder, a, b, when, upstream, dependencies) => {
        fc.pre(comparePositions(a, b) !== 0);
        const [from, to] = comparePositions(a, b) > 0 ? [a, b] : [b, a];
        const verdict = evaluateMove({ flagKey: 'f', ladder, from, to, now: new Date(START), ...(when === undefined ? {} : { enteredAt: new Date(START + when * HOUR) }), ...(upstream ? { upstream } : {}), dependencies });
        expect(verdict).toMatchObject({ allowed: true, kind: 'rollback' });
      }),
      { numRuns: 2_000 },
    );
  });

  it('never refuses a kill-switch flip', () => {
    fc.assert(
      fc.property(ladderArb, positionArb, positionArb, upstreamArb, dependenciesArb, (ladder, from, to, upstream, dependencies) => {
        const verdict = evaluateMove({ flagKey: 'safe_mode', killSwitch: true, ladder, from, to, now: new Date(START), ...(upstream ? { upstream } : {}), dependencies });
        expect(verdict).toMatchObject({ allowed: true, kind: 'kill-switch' });
      }),
      { numRuns: 1_000 },
    );
  });
});
