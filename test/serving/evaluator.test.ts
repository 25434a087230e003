/**
 * The provider's in-process evaluator without a database: it is total (no row, no context
 * makes it throw), errors carry the caller's default, and a full or keyed re-read reports
 * exactly the keys that changed.
 */
import fc from 'fast-check';
import { ErrorCode } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import type { DefinitionRow } from '../../packages/provider/src/definition.ts';
import { DefinitionSet } from '../../packages/provider/src/evaluator.ts';
import { parseNotice } from '../../packages/provider/src/queries.ts';

const row = (key: string, fields: Partial<DefinitionRow> = {}): DefinitionRow => ({ key, value: true, off_value: false, stage: null, percent: null, segments: null, override: null, kill_switch: false, ledger_id: '1', ...fields });

describe('the in-process evaluator', () => {
  it('never throws, whatever the rows and the context, and answers the default on every error', () => {
    const json = fc.jsonValue();
    const rows = fc.array(
      fc.record({ key: fc.string(), value: json, off_value: json, stage: fc.oneof(fc.constantFrom('off', 'dark', 'shadow', 'canary', 'full', null), fc.string()), percent: fc.oneof(fc.constant(null), fc.double(), fc.string()), segments: json, override: json, kill_switch: fc.boolean(), ledger_id: fc.oneof(fc.constant(null), fc.integer().map(String)) }),
      { maxLength: 8 },
    );
    const context = fc.dictionary(fc.string(), fc.jsonValue()).chain((attributes) => fc.oneof(fc.constant(attributes), fc.string().map((targetingKey) => ({ ...attributes, targetingKey }))));
    fc.assert(
      fc.property(rows, fc.string(), context, fc.constantFrom('boolean', 'string', 'number', 'object'), (generated, key, unit, type) => {
        const set = new DefinitionSet();
        set.replaceAll(generated);
        const probe = generated.length > 0 && key.length % 2 === 0 ? generated[0].key : key;
        const answer = set.resolve(type, probe, 'DEFAULT', unit, { stale: false });
        if (answer.errorCode) return (answer.value as unknown) === 'DEFAULT' && answer.reason === 'ERROR';
        return typeof answer.variant === 'string';
      }),
      { numRuns: 2_000 },
    );
  });

  it('says not ready before the first read, then FLAG_NOT_FOUND, TYPE_MISMATCH (null too) and PARSE_ERROR', () => {
    const set = new DefinitionSet();
    expect(set.resolve('boolean', 'a', true, {}, { stale: false })).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_NOT_READY });
    set.replaceAll([row('a'), row('nothing', { value: null, off_value: null }), row('bad', { stage: 'sideways' })]);
    expect(set.resolve('boolean', 'b', true, {}, { stale: false })).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(set.resolve('string', 'a', 'x', {}, { stale: false })).toMatchObject({ value: 'x', errorCode: ErrorCode.TYPE_MISMATCH, flagMetadata: { ledgerId: 1 } });
    expect(set.resolve('object', 'nothing', {}, {}, { stale: false })).toMatchObject({ errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: "flag 'nothing' is null for this unit, not object" });
    expect(set.resolve('boolean', 'bad', false, {}, { stale: false })).toMatchObject({ value: false, errorCode: ErrorCode.PARSE_ERROR });
    expect(set.resolve('boolean', 'a', false, {}, { stale: true })).toMatchObject({ value: true, reason: 'STALE', variant: 'on' });
  });

  it('reports the keys a read added, changed or removed, and nothing for a re-read of the same rows', () => {
    const set = new DefinitionSet();
    expect(set.replaceAll([row('a'), row('b')]).sort()).toEqual(['a', 'b']);
    expect(set.replaceAll([row('a'), row('b')])).toEqual([]);
    expect(set.replaceAll([row('a', { stage: 'full', ledger_id: '2' }), row('c')]).sort()).toEqual(['a', 'b', 'c']);
    expect(set.replaceKeys(['a', 'c', 'zz'], [row('a', { stage: 'full', ledger_id: '2' })])).toEqual(['c']);
    expect([...set.keys()]).toEqual(['a']);
    expect(set.summary()).toBe('1/2');
  });

  it('reads a notice, and takes anything unexpected as "re-read everything"', () => {
    expect(parseNotice('{"ledger_id": 4, "keys": ["a", "b"]}')).toEqual({ ledgerId: 4, keys: ['a', 'b'] });
    expect(parseNotice('{"ledger_id": 5}')).toEqual({ ledgerId: 5 });
    for (const payload of ['', 'not json', '[1]', '{"keys": [1]}', 'null']) expect(parseNotice(payload).keys).toBeUndefined();
  });
});
