/**
 * The pure rule of what a unit sees, against the shared table, plus its properties: it is
 * total, monotone in the percent, and never serves value to more units than the stage allows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3 } from '../../packages/provider/src/bucket.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { SERVING_CASES } from './cases.ts';

describe('what a unit sees (the pure rule)', () => {
  it.each(SERVING_CASES)('$name', ({ definition, unit, expected }) => {
    const got = evaluate(definition, unit);
    expect({ value: got.value, variant: got.variant, reason: got.reason, ...(got.shadowValue !== undefined ? { shadowValue: got.shadowValue } : {}) }).toEqual(expected);
  });

  it('hashes UTF-8 bytes with MurmurHash3 x86_32 (published values)', () => {
    expect(murmur3('')).toBe(0);
    expect(murmur3('hello')).toBe(0x248bfa47);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    // 'é' is the two UTF-8 bytes c3 a9 (docs/bucketing.md); hashing UTF-16 code units would differ.
    expect(murmur3('global.safe_mode:José')).toBe(0x600b3d72);
    expect(murmur3('payments.consolidated_metrics:日本語ユーザー')).toBe(0xa3fee20f);
  });

  it('only ever adds units when the percent rises', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (key, unit, a, b) => {
        const [low, high] = a <= b ? [a / 100, b / 100] : [b / 100, a / 100];
        const at = (percent: number) => evaluate({ key, value: 1, offValue: 0, stage: 'canary', percent, segments: [], killSwitch: false, ledgerId: null }, { targetingKey: unit }).value;
        return at(low) === 0 || at(high) === 1;
      }),
      { numRuns: 5_000 },
    );
  });

  it('serves value to about p % of 100,000 units at canary p', () => {
    for (const percent of [1, 5, 25, 50, 99]) {
      let inside = 0;
      for (let i = 0; i < 100_000; i++) if (bucketOf('checkout.v2', `u${i}`) < percent * 100) inside += 1;
      expect(Math.abs(inside / 1000 - percent)).toBeLessThan(1);
    }
  });
});
