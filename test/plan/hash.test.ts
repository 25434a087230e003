import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { PLAN_HASH_MIN_LENGTH, PlanHasher, canonicalJson, matchesPlanHash, planHashProblem } from '../../actions/engine/plan/hash.ts';

describe('plan hash', () => {
  it('writes the same canonical JSON as an RFC 8785 implementation, for any JSON value', () => {
    // Integer-keyed objects are included on purpose: JavaScript orders their keys numerically.
    const key = fc.oneof(fc.string(), fc.constantFrom('10', '9', '1', 'a', 'B', 'é', '\u{1F600}', '__proto__', 'constructor'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.string({ unit: 'grapheme' }),
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(key, tie('value'), { maxKeys: 6 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('does not depend on key order, and changes with any value', () => {
    expect(canonicalJson({ b: 1, a: { y: [1, { d: 2, c: 3 }], x: null } })).toBe(canonicalJson({ a: { x: null, y: [1, { c: 3, d: 2 }] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/no JSON form/);
    const parsed: unknown = JSON.parse('{"b": 1, "__proto__": {"x": 1}, "10": 2}');
    expect(canonicalJson(parsed)).toBe('{"10":2,"__proto__":{"x":1},"b":1}');
    expect(canonicalJson(JSON.parse('{"b": 1, "__proto__": {"x": 1}}'))).toBe('{"__proto__":{"x":1},"b":1}');
  });

  it('frames records so that moving text between fields or records changes the hash', () => {
    const digest = (...records: string[][]): string => {
      const hasher = new PlanHasher();
      for (const fields of records) hasher.record(...fields);
      return hasher.digest();
    };
    const base = digest(['"a"', '1'], ['"b"', '2']);
    expect(digest(['"a"', '1'], ['"b"', '2'])).toBe(base);
    expect(digest(['"a"', '1', '"b"', '2'])).not.toBe(base);
    expect(digest(['"a"'], ['1', '"b"', '2'])).not.toBe(base);
    expect(digest(['"a"', '1'], ['"b"', '"="'])).not.toBe(digest(['"a"', '1'], ['"b"', '=']));
  });

  it('matches a reviewed plan by its full hash or a prefix of 12 characters or more, never fewer', () => {
    const hash = new PlanHasher().digest();
    expect(PLAN_HASH_MIN_LENGTH).toBe(12);
    expect(matchesPlanHash(hash, hash)).toBe(true);
    expect(matchesPlanHash(hash, hash.toUpperCase())).toBe(true);
    expect(matchesPlanHash(hash, hash.slice(0, 12))).toBe(true);
    // One letter would pass for one plan in sixteen; eleven still for one in 2^44.
    expect(matchesPlanHash(hash, hash.slice(0, 1))).toBe(false);
    expect(matchesPlanHash(hash, hash.slice(0, 11))).toBe(false);
    expect(matchesPlanHash(hash, '')).toBe(false);
    const other = `${hash.slice(0, 12)}${hash[12] === '0' ? '1' : '0'}`;
    expect(matchesPlanHash(hash, other)).toBe(false);
    expect(matchesPlanHash(hash, `${hash}0`)).toBe(false);
    expect(planHashProblem(hash.slice(0, 11))).toMatch(/^Invalid plan hash '[0-9a-f]{11}'\. Expected 12 to 64 hexadecimal characters/);
    expect(planHashProblem('zzzzzzzzzzzz')).toMatch(/Invalid plan hash/);
    expect(planHashProblem(hash.slice(0, 12))).toBeNull();
  });

  it('writes keys in order at every depth, and refuses values JSON cannot hold', () => {
    expect(canonicalJson({ b: 1, a: 2, c: { z: 1, y: 2 } })).toBe('{"a":2,"b":1,"c":{"y":2,"z":1}}');
    expect(canonicalJson({ a: 1, c: 2, b: 3 })).toBe('{"a":1,"b":3,"c":2}');
    expect(canonicalJson({ b: { '10': 1, '9': 2, a: 3 } })).toBe('{"b":{"10":1,"9":2,"a":3}}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(() => canonicalJson([1, Number.POSITIVE_INFINITY])).toThrow('Infinity has no JSON form');
    expect(() => canonicalJson({ '10': Number.NaN })).toThrow('NaN has no JSON form');
  });

  it('frames each record as one line, fields apart', () => {
    const one = new PlanHasher();
    one.record('a', 'b');
    const two = new PlanHasher();
    two.record('a\tb');
    // The framing is the text itself: "a", "b" is the line "a<TAB>b".
    expect(one.digest()).toBe(two.digest());
    const three = new PlanHasher();
    three.record('ab');
    expect(three.digest()).not.toBe(new PlanHasher().digest());
  });

  it("quotes at most 70 characters of a bad hash in its message", () => {
    expect(planHashProblem('z'.repeat(100))).toContain(`'${'z'.repeat(70)}'.`);
  });
});
