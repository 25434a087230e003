/** The plan's diff of two JSON values, and the lines a change and a hold print. */
import { describe, expect, it } from 'vitest';
import { compactJson, diffJson, formatDiffLine, formatHeldLine } from '../../actions/engine/plan/json-diff.ts';

describe('JSON diff', () => {
  it('says a value added, removed or replaced as a whole, and nothing for equal values', () => {
    expect(diffJson(undefined, undefined)).toEqual([]);
    expect(diffJson(undefined, { a: 1 })).toEqual([{ op: '+', path: '', after: { a: 1 } }]);
    expect(diffJson({ a: 1 }, undefined)).toEqual([{ op: '-', path: '', before: { a: 1 } }]);
    expect(diffJson(1, 1)).toEqual([]);
    expect(diffJson(null, null)).toEqual([]);
    expect(diffJson('a', 'b')).toEqual([{ op: '~', path: '', before: 'a', after: 'b' }]);
    // An object and an array, or null and an object, are different kinds: no per-path lines.
    expect(diffJson({ 0: 'x' }, ['x'])).toEqual([{ op: '~', path: '', before: { 0: 'x' }, after: ['x'] }]);
    expect(diffJson(null, { a: 1 })).toEqual([{ op: '~', path: '', before: null, after: { a: 1 } }]);
    expect(diffJson({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('gives each changed leaf its path, with array indexes in brackets', () => {
    expect(diffJson({ a: { b: [1, { c: 2 }] }, gone: true }, { a: { b: [1, { c: 3 }] }, added: null })).toEqual([
      { op: '~', path: 'a.b[1].c', before: 2, after: 3 },
      { op: '-', path: 'gone', before: true },
      { op: '+', path: 'added', after: null },
    ]);
    expect(diffJson([1], [1, 2])).toEqual([{ op: '+', path: '[1]', after: 2 }]);
  });

  it('prints a change as what apply does, and a hold as what stays', () => {
    expect(formatDiffLine({ op: '+', path: 'region', after: 'eu' })).toBe('+ region: "eu"');
    expect(formatDiffLine({ op: '-', path: 'legacy', before: true })).toBe('- legacy: true');
    expect(formatDiffLine({ op: '-', path: '', before: 1 })).toBe('- 1');
    expect(formatDiffLine({ op: '~', path: '', before: 1, after: 2 })).toBe('~ 1 → 2');
    expect(formatHeldLine({ op: '~', path: 'enabled', before: true, after: false })).toBe('= enabled: true kept (Git says false)');
    expect(formatHeldLine({ op: '~', path: '', before: true, after: false })).toBe('= true kept (Git says false)');
    expect(formatHeldLine({ op: '+', path: 'region', after: 'eu' })).toBe('= region: absent, kept so (Git says "eu")');
    expect(formatHeldLine({ op: '-', path: 'legacy', before: true })).toBe('= legacy: true kept (Git has none)');
    expect(compactJson(undefined)).toBe('(none)');
    expect(compactJson({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}');
  });
});
