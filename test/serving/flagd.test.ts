/**
 * The flagd export, evaluated by the independent oracle @openfeature/flagd-core (pinned 4.0.1,
 * which implements flagd's fractional v2): every row of the shared table gives the same value
 * and variant as the pure rule, 100,000s of ASCII units agree at several percents, the
 * document passes flagd's published flag-definitions schema (the ajv validators flagd-core
 * compiles from flagd-schemas' flags.json and targeting.json, run with strict validation), and
 * the flagd-testbed fractional vectors are reproduced by bucketOf.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FlagdCore, MemoryStorage } from '@openfeature/flagd-core';
import type { EvaluationContext, FlagValueType, JsonValue, Logger } from '@openfeature/core';
import { describe, expect, it } from 'vitest';
import { toFlagd, toFlagdFlag, type FlagdDocument } from '../../actions/engine/export/flagd.ts';
import { bucketOf } from '../../packages/provider/src/bucket.ts';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { evaluate, type Reason } from '../../packages/provider/src/rule.ts';
import { INTERNAL, SERVING_CASES } from './cases.ts';

const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/** Load a document the way a flagd provider does, with flagd's schema enforced (throws when it does not conform). */
function flagdCore(document: FlagdDocument | object): FlagdCore {
  const core = new FlagdCore(new MemoryStorage(quiet), quiet);
  new MemoryStorage(quiet).setConfigurations(JSON.stringify(document), true);
  core.setConfigurations(JSON.stringify(document));
  return core;
}

const typeOf = (value: JsonValue): FlagValueType => (typeof value === 'boolean' ? 'boolean' : typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'object');

/** How flagd names the rule's reasons: it has no SPLIT for fractional and no DISABLED for a flag that is on. */
const FLAGD_REASON: Record<Reason, string> = { STATIC: 'STATIC', DEFAULT: 'DEFAULT', TARGETING_MATCH: 'TARGETING_MATCH', SPLIT: 'TARGETING_MATCH', DISABLED: 'STATIC' };

const isAscii = (text: string | undefined): boolean => text === undefined || [...text].every((c) => c.charCodeAt(0) < 0x80);

describe('flagd export, evaluated by @openfeature/flagd-core', () => {
  it('pins the flagd-core the docs name (fractional v2)', () => {
    const require = createRequire(import.meta.url);
    expect((require('@openfeature/flagd-core/package.json') as { version: string }).version).toBe('4.0.1');
  });

  const asciiCases = SERVING_CASES.filter((c) => isAscii(c.unit.targetingKey));
  it('leaves out only the non-ASCII row (flagd-core JS hashes UTF-16 code units; see below)', () => {
    expect(SERVING_CASES.length - asciiCases.length).toBe(1);
  });

  it.each(asciiCases)('$name', ({ definition, unit, expected }) => {
    const { document, problems } = toFlagd([definition]);
    expect(problems).toEqual([]);
    const got = flagdCore(document).resolve(typeOf(expected.value), definition.key, null as never, unit as EvaluationContext, quiet);
    expect({ value: got.value, variant: got.variant, reason: got.reason, errorCode: got.errorCode }).toEqual({ value: expected.value, variant: expected.variant, reason: FLAGD_REASON[expected.reason], errorCode: undefined });
    expect(got.flagMetadata.shadowValue).toBe(expected.shadowValue === undefined ? undefined : JSON.stringify(expected.shadowValue));
    if (definition.stage !== null) expect(got.flagMetadata.stage).toBe(definition.stage);
    expect(got.flagMetadata.ledgerId).toBe(definition.ledgerId);
  });

  it('agrees with the pure rule on 100,000 ASCII units at each of several percents (and with a segment)', () => {
    const percents = [0.01, 1, 5, 25, 50, 99.99];
    const definitions: FlagDefinition[] = percents.map((percent, i) => ({ key: `oracle.flag_${i}`, value: 'on-value', offValue: 'off-value', stage: 'canary', percent, segments: i % 2 === 0 ? [INTERNAL] : [], killSwitch: false, ledgerId: 3 }));
    const core = flagdCore(toFlagd(definitions).document);
    let compared = 0;
    for (const definition of definitions) {
      let mismatches = 0;
      for (let i = 0; i < 100_000; i++) {
        const unit = { targetingKey: `user-${i * 7919}@example.com`, ...(i % 97 === 0 ? { email_domain: 'corp.example' } : {}) };
        const ours = evaluate(definition, unit);
        const theirs = core.resolveStringEvaluation(definition.key, 'default', unit, quiet);
        if (theirs.value !== ours.value || theirs.variant !== ours.variant) mismatches += 1;
        compared += 1;
      }
      expect(mismatches, `${definition.key} at ${definition.percent}%`).toBe(0);
    }
    expect(compared).toBe(600_000);
  });

  it('passes flagd\'s schema for every stage and type, and the check can fail', () => {
    const stages: FlagDefinition[] = SERVING_CASES.map((c, i) => ({ ...c.definition, key: `schema.${i}` }));
    const { document, problems } = toFlagd(stages, { environment: 'staging' });
    expect(problems).toEqual([]);
    expect(Object.keys(document.flags)).toHaveLength(SERVING_CASES.length);
    expect(() => flagdCore(document)).not.toThrow();
    expect(document.$schema).toBe('https://flagd.dev/schema/v0/flags.json');
    // A document flagd's schema refuses: a variant of another type than the others in a boolean flag.
    const broken = { flags: { x: { state: 'ENABLED', variants: { on: true, off: 'no' }, defaultVariant: 'on' } } };
    expect(() => flagdCore(broken)).toThrow(/invalid/i);
  });

  it('reports what flagd cannot express instead of writing it', () => {
    const base: FlagDefinition = { key: 'k', value: true, offValue: false, stage: 'canary', percent: 5, segments: [], killSwitch: false, ledgerId: 1 };
    expect(toFlagdFlag({ ...base, offValue: 'false' })).toMatchObject({ problem: expect.stringContaining('off_value is a string but value is a boolean') as unknown });
    expect(toFlagdFlag({ ...base, value: [1, 2], offValue: [] })).toMatchObject({ problem: expect.stringContaining('value is an array') as unknown });
    expect(toFlagdFlag({ ...base, value: null, offValue: null })).toMatchObject({ problem: expect.stringContaining('value is null') as unknown });
    expect(toFlagdFlag({ ...base, segments: [{ name: 'internal', attributes: { 'user.email': ['a@b'] } }] })).toMatchObject({ problem: expect.stringContaining("attribute 'user.email'") as unknown });
    const { document, problems } = toFlagd([base, { ...base, key: 'bad', value: 1, offValue: 'one' }]);
    expect(Object.keys(document.flags)).toEqual(['k']);
    expect(problems.map((p) => p.key)).toEqual(['bad']);
  });

  describe('where flagd-core (JavaScript) and the rule part', () => {
    it('non-ASCII targeting keys: flagd-core hashes UTF-16 code units, the rule (like flagd\'s spec and Go) UTF-8', () => {
      const definition: FlagDefinition = { key: 'global.safe_mode', value: 'on', offValue: 'off', stage: 'canary', percent: 50, segments: [], killSwitch: false, ledgerId: null };
      const core = flagdCore(toFlagd([definition]).document);
      let differ = 0;
      const keys = Array.from({ length: 200 }, (_, i) => `José-${i}`);
      for (const targetingKey of keys) if (core.resolveStringEvaluation(definition.key, 'x', { targetingKey }, quiet).value !== evaluate(definition, { targetingKey }).value) differ += 1;
      // Two different hashes of each key: about half of the 50 % splits disagree.
      expect(differ).toBeGreaterThan(50);
      expect(differ).toBeLessThan(150);
    });

    it('an empty targeting key: flagd-core treats it as missing (off, DEFAULT), the rule buckets it like any other', () => {
      const key = [...Array(200).keys()].map((i) => `empty.key_${i}`).find((k) => bucketOf(k, '') < 5000)!;
      const definition: FlagDefinition = { key, value: 'on', offValue: 'off', stage: 'canary', percent: 50, segments: [], killSwitch: false, ledgerId: null };
      expect(evaluate(definition, { targetingKey: '' })).toMatchObject({ value: 'on', reason: 'SPLIT' });
      expect(flagdCore(toFlagd([definition]).document).resolveStringEvaluation(key, 'x', { targetingKey: '' }, quiet)).toMatchObject({ value: 'off', reason: 'DEFAULT' });
    });
  });
});

describe('flagd-testbed fractional v2 vectors (open-feature/flagd-testbed, evaluator/gherkin/fractional.feature)', () => {
  const flags = JSON.parse(readFileSync(new URL('../fixtures/flagd-testbed/fractional-flags.json', import.meta.url), 'utf8')) as FlagdDocument;
  const vectors = JSON.parse(readFileSync(new URL('../fixtures/flagd-testbed/fractional-v2-vectors.json', import.meta.url), 'utf8')) as Record<string, { context: 'user.name' | 'targetingKey'; examples: Array<[string, string]> }>;
  const contextOf = (kind: 'user.name' | 'targetingKey', value: string): EvaluationContext => (kind === 'targetingKey' ? { targetingKey: value } : { user: { name: value } });

  /** Each testbed flag as bucketOf sees it: which string seeds the hash, and where the variants are cut. */
  const quarters = (names: [string, string, string, string]) => (bucket: number) => names[Math.min(3, Math.floor(bucket / 2500))];
  const ours: Record<string, { seed: string; pick: (bucket: number) => string }> = {
    'fractional-flag': { seed: 'fractional-flag', pick: quarters(['clubs', 'diamonds', 'hearts', 'spades']) },
    'fractional-flag-shorthand': { seed: 'fractional-flag-shorthand', pick: (bucket) => (bucket < 5000 ? 'heads' : 'tails') },
    'fractional-flag-A-shared-seed': { seed: 'shared-seed', pick: quarters(['clubs', 'diamonds', 'hearts', 'spades']) },
    'fractional-flag-B-shared-seed': { seed: 'shared-seed', pick: quarters(['ace-of-clubs', 'ace-of-diamonds', 'ace-of-hearts', 'ace-of-spades']) },
    'fractional-hash-edge-flag': { seed: '', pick: (bucket) => (bucket < 5000 ? 'lower' : 'upper') },
  };

  const rows = Object.entries(vectors).flatMap(([flag, { context, examples }]) => examples.map(([input, value]) => ({ flag, context, input, value })));

  it.each(rows)('$flag: $input → $value', ({ flag, context, input, value }) => {
    expect(flagdCore(flags).resolveStringEvaluation(flag, 'fallback', contextOf(context, input), quiet).value, 'flagd-core 4.0.1 is v2').toBe(value);
    expect(ours[flag].pick(bucketOf(ours[flag].seed, input)), 'bucketOf').toBe(value);
  });
});
