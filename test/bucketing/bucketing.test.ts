import fc from 'fast-check';
import reference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, inRollout, murmur3, rolloutThreshold } from '../../actions/engine/bucketing/index.ts';
import { loadVectors } from './vectors.ts';

const { published, vectors } = loadVectors();
const encoder = new TextEncoder();
const referenceHash = (text: string): number => reference.x86.hash32(encoder.encode(text), 0) >>> 0;

describe('golden vectors', () => {
  it('has at least 200 vectors covering empty, unicode and long unit ids and dotted keys', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(200);
    expect(vectors.some((v) => v.unitId === '')).toBe(true);
    expect(vectors.some((v) => [...v.unitId].some((c) => c.codePointAt(0)! > 0x7f))).toBe(true);
    expect(vectors.some((v) => [...v.unitId].length >= 256)).toBe(true);
    expect(vectors.some((v) => v.flagKey.includes('.'))).toBe(true);
  });

  it('matches the published MurmurHash3 x86_32 values', () => {
    for (const p of published) expect(murmur3(p.input, p.seed), JSON.stringify(p)).toBe(p.murmur3);
  });

  it('were produced by the independent reference implementation', () => {
    for (const v of vectors) expect(referenceHash(`${v.flagKey}${v.unitId}`)).toBe(v.murmur3);
  });

  it('bucketOf and inRollout match every vector', () => {
    for (const v of vectors) {
      expect(murmur3(`${v.flagKey}${v.unitId}`), v.unitId).toBe(v.murmur3);
      expect(bucketOf(v.flagKey, v.unitId), v.unitId).toBe(v.bucket);
      for (const c of v.checks) expect(inRollout(v.flagKey, v.unitId, c.percent), `${v.unitId} @ ${c.percent}`).toBe(c.inRollout);
    }
  });
});

describe('bucketOf', () => {
  it('hashes UTF-8 bytes, agreeing with the reference on any Unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (key, unit) => {
        expect(murmur3(key + unit)).toBe(referenceHash(key + unit));
        // flagd's (hash × totalWeight) >> 32, in exact integer arithmetic.
        expect(bucketOf(key, unit)).toBe(Number((BigInt(referenceHash(key + unit)) * BigInt(BUCKETS)) >> 32n));
      }),
      { numRuns: 2_000 },
    );
  });

  it('gives a bucket from 0 to 9999, the same on every call', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (key, unit) => {
        const bucket = bucketOf(key, unit);
        expect(Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS).toBe(true);
        expect(bucketOf(key, unit)).toBe(bucket);
      }),
    );
  });
});

describe('inRollout', () => {
  const units = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

  it.each([0.5, 1, 5, 10, 25, 33.33, 50, 75, 99])('puts %s%% of 100,000 units in the rollout, within ±1 point', (percent) => {
    const inside = units.filter((u) => inRollout('checkout.v2', u, percent)).length;
    const share = (inside / units.length) * 100;
    expect(Math.abs(share - percent)).toBeLessThanOrEqual(1);
  });

  it('spreads 100,000 units evenly over ten bucket ranges (each within ±1 point of 10%)', () => {
    const deciles = new Array<number>(10).fill(0);
    for (const u of units) deciles[Math.floor(bucketOf('search.ranking', u) / 1_000)] += 1;
    for (const count of deciles) expect(Math.abs((count / units.length) * 100 - 10)).toBeLessThanOrEqual(1);
  });

  it('puts nobody in at 0% and everybody in at 100%', () => {
    expect(units.slice(0, 10_000).some((u) => inRollout('f', u, 0))).toBe(false);
    expect(units.slice(0, 10_000).every((u) => inRollout('f', u, 100))).toBe(true);
  });

  it('never removes a unit when the percent goes up', () => {
    const percent = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100);
    fc.assert(
      fc.property(fc.string(), fc.string(), percent, percent, (key, unit, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (inRollout(key, unit, low)) expect(inRollout(key, unit, high)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps every unit of a lower percent when one population is walked up the canary steps', () => {
    const steps = [0, 1, 5, 25, 50, 100];
    let previous = new Set<string>();
    for (const step of steps) {
      const current = new Set(units.slice(0, 20_000).filter((u) => inRollout('global.safe_mode', u, step)));
      for (const u of previous) expect(current.has(u)).toBe(true);
      previous = current;
    }
  });

  it('makes the threshold round(percent × 100) and refuses percents it cannot represent', () => {
    expect(rolloutThreshold(0)).toBe(0);
    expect(rolloutThreshold(0.29)).toBe(29);
    expect(rolloutThreshold(12.5)).toBe(1_250);
    expect(rolloutThreshold(100)).toBe(10_000);
    for (const bad of [-1, 100.01, 12.345, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => rolloutThreshold(bad)).toThrow(/Invalid rollout percent .*Expected a number from 0 to 100 with at most two decimals/);
    }
  });
});
