import { describe, expect, it } from 'vitest';
import { burnRate, evaluateBurnPairs, evaluateThreshold } from '../../actions/engine/monitors/index.ts';

describe('thresholds', () => {
  it('breaches above and below, judged on the worst row', () => {
    expect(evaluateThreshold([120, 301], { above: 300 })).toMatchObject({ status: 'breach', value: 301 });
    expect(evaluateThreshold([120, 300], { above: 300 })).toMatchObject({ status: 'healthy', value: 300 });
    expect(evaluateThreshold([0.69], { below: 0.7 })).toMatchObject({ status: 'breach', detail: '0.69 is below 0.7' });
  });
  it('never calls missing data healthy', () => {
    expect(evaluateThreshold([], { above: 2 }).status).toBe('unknown');
    expect(evaluateThreshold([undefined, undefined], { above: 2 }).status).toBe('unknown');
    expect(evaluateThreshold([1], {}).status).toBe('unknown');
  });
});

describe('burn rates', () => {
  it('is the error rate over the error budget', () => {
    // 99.9 % SLO: budget 0.1 %; 1.44 % errors burn it 14.4 times too fast.
    expect(burnRate(98_560, 100_000, 0.999)).toBeCloseTo(14.4, 6);
    expect(burnRate(1000, 1000, 0.999)).toBe(0);
    expect(burnRate(0, 0, 0.999)).toBeUndefined();
    expect(burnRate(undefined, 10, 0.999)).toBeUndefined();
  });
  it('breaches only when both windows of a pair burn above the factor', () => {
    const pair = { long: '1h', short: '5m', factor: 14.4 };
    expect(evaluateBurnPairs([{ ...pair, longBurn: 15, shortBurn: 20 }]).status).toBe('breach');
    expect(evaluateBurnPairs([{ ...pair, longBurn: 15, shortBurn: 1 }]).status).toBe('healthy'); // already recovered
    expect(evaluateBurnPairs([{ ...pair, longBurn: 2, shortBurn: 30 }]).status).toBe('healthy'); // a blip
    expect(evaluateBurnPairs([{ ...pair, longBurn: 15, shortBurn: undefined }]).status).toBe('unknown');
  });
  it('a breach in any pair wins over unknown in another', () => {
    const verdict = evaluateBurnPairs([
      { long: '1h', short: '5m', factor: 14.4 },
      { long: '6h', short: '30m', factor: 6, longBurn: 7, shortBurn: 8 },
    ]);
    expect(verdict.status).toBe('breach');
    expect(verdict.detail).toBe('burning 7× over 6h and 8× over 30m (factor 6)');
  });
});
