import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { PlanHasher, canonicalJson } from '../../actions/engine/plan/hash.ts';

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
});
