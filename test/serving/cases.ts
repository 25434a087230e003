/**
 * What a unit sees, as one table: (definition, unit) → expected value, variant and reason.
 * Every reader is tested against it — the pure rule (packages/provider/src/rule.ts), the
 * SQL function rollout.evaluate on both databases, the OpenFeature provider, and
 * @openfeature/flagd-core evaluating the exported flagd definitions (value and variant;
 * flagd reports its own reasons, mapped in docs/serving.md).
 *
 * Units are chosen by their bucket (bucketOf is checked against flagd-core separately), so
 * each canary row says which side of the threshold the unit is on, not a magic id.
 */
import { bucketOf } from '../../packages/provider/src/bucket.ts';
import type { FlagDefinition, JsonValue, Segment } from '../../packages/provider/src/definition.ts';
import type { Reason, UnitContext, Variant } from '../../packages/provider/src/rule.ts';

export interface ServingCase {
  name: string;
  definition: FlagDefinition;
  unit: UnitContext;
  expected: { value: JsonValue; variant: Variant; reason: Reason; shadowValue?: JsonValue };
}

const ON = { enabled: true, version: 'v2' };
const OFF = { enabled: false, version: 'v1' };

export const INTERNAL: Segment = { name: 'internal', keys: ['alice@corp', 'bob@corp'], attributes: { email_domain: ['corp.example'] } };
export const HIGH_PRIORITY: Segment = { name: 'high_priority', keys: ['draftkings', 'fanduel', 'betmgm', 'caesars', 'pointsbet', 'bet365', 'unibet', 'wynnbet'] };

const flag = (key: string, fields: Partial<FlagDefinition>): FlagDefinition => ({
  key,
  value: ON,
  offValue: OFF,
  stage: null,
  percent: 0,
  segments: [],
  killSwitch: false,
  ledgerId: 7,
  ...fields,
});

/** The first unit id `user-N` whose bucket for `key` is below (in) or at/above (out) the threshold of `percent`. */
export function unitFor(key: string, percent: number, side: 'in' | 'out'): string {
  const threshold = Math.round(percent * 100);
  for (let i = 0; ; i++) {
    const id = `user-${i}`;
    if ((bucketOf(key, id) < threshold) === (side === 'in')) return id;
  }
}

/** A unit exactly at the edge: the largest bucket still in (threshold − 1), or the smallest out (threshold). */
export function unitAtBucket(key: string, bucket: number): string {
  for (let i = 0; ; i++) {
    const id = `edge-${i}`;
    if (bucketOf(key, id) === bucket) return id;
  }
}

const on = { value: ON, variant: 'on' } as const;
const off = { value: OFF, variant: 'off' } as const;

export const SERVING_CASES: ServingCase[] = [
  { name: 'plain flag: everyone gets value', definition: flag('plain.flag', { value: 42, offValue: 42 }), unit: { targetingKey: 'anyone' }, expected: { value: 42, variant: 'on', reason: 'STATIC' } },
  { name: 'plain flag without a targeting key', definition: flag('plain.flag', { value: 'x', offValue: 'x' }), unit: {}, expected: { value: 'x', variant: 'on', reason: 'STATIC' } },
  { name: 'off: an internal unit still gets the off value', definition: flag('checkout.v2', { stage: 'off', segments: [INTERNAL] }), unit: { targetingKey: 'alice@corp' }, expected: { ...off, reason: 'DISABLED' } },
  { name: 'off: anyone gets the off value', definition: flag('checkout.v2', { stage: 'off' }), unit: { targetingKey: 'user-1' }, expected: { ...off, reason: 'DISABLED' } },
  { name: 'dark: an internal unit by key gets value', definition: flag('checkout.v2', { stage: 'dark', segments: [INTERNAL] }), unit: { targetingKey: 'bob@corp' }, expected: { ...on, reason: 'TARGETING_MATCH' } },
  { name: 'dark: an internal unit by attribute gets value', definition: flag('checkout.v2', { stage: 'dark', segments: [INTERNAL] }), unit: { targetingKey: 'carol', email_domain: 'corp.example' }, expected: { ...on, reason: 'TARGETING_MATCH' } },
  { name: 'dark: an attribute of the wrong type does not match', definition: flag('checkout.v2', { stage: 'dark', segments: [{ name: 'tier', attributes: { tier: [1] } }] }), unit: { targetingKey: 'carol', tier: '1' }, expected: { ...off, reason: 'DEFAULT' } },
  { name: 'dark: an outside unit gets the off value', definition: flag('checkout.v2', { stage: 'dark', segments: [INTERNAL] }), unit: { targetingKey: 'user-1', email_domain: 'gmail.com' }, expected: { ...off, reason: 'DEFAULT' } },
  { name: 'dark: no targeting key and no attributes', definition: flag('checkout.v2', { stage: 'dark', segments: [INTERNAL] }), unit: {}, expected: { ...off, reason: 'DEFAULT' } },
  { name: 'dark without segments serves nobody', definition: flag('checkout.v2', { stage: 'dark' }), unit: { targetingKey: 'alice@corp' }, expected: { ...off, reason: 'DEFAULT' } },
  { name: 'shadow: an internal unit gets the off value, value rides along', definition: flag('checkout.v2', { stage: 'shadow', segments: [INTERNAL] }), unit: { targetingKey: 'alice@corp' }, expected: { ...off, reason: 'STATIC', shadowValue: ON } },
  { name: 'shadow: anyone gets the off value', definition: flag('checkout.v2', { stage: 'shadow' }), unit: { targetingKey: 'user-9' }, expected: { ...off, reason: 'STATIC', shadowValue: ON } },
  ...[5, 25, 50, 12.5].flatMap((percent): ServingCase[] => [
    { name: `canary ${percent}%: a unit bucketed in gets value`, definition: flag('ranker.policy', { stage: 'canary', percent }), unit: { targetingKey: unitFor('ranker.policy', percent, 'in') }, expected: { ...on, reason: 'SPLIT' } },
    { name: `canary ${percent}%: a unit bucketed out gets the off value`, definition: flag('ranker.policy', { stage: 'canary', percent }), unit: { targetingKey: unitFor('ranker.policy', percent, 'out') }, expected: { ...off, reason: 'SPLIT' } },
    { name: `canary ${percent}%: the last bucket in`, definition: flag('ranker.policy', { stage: 'canary', percent }), unit: { targetingKey: unitAtBucket('ranker.policy', Math.round(percent * 100) - 1) }, expected: { ...on, reason: 'SPLIT' } },
    { name: `canary ${percent}%: the first bucket out`, definition: flag('ranker.policy', { stage: 'canary', percent }), unit: { targetingKey: unitAtBucket('ranker.policy', Math.round(percent * 100)) }, expected: { ...off, reason: 'SPLIT' } },
  ]),
  { name: 'canary 0%: nobody by bucket', definition: flag('ranker.policy', { stage: 'canary', percent: 0 }), unit: { targetingKey: unitAtBucket('ranker.policy', 0) }, expected: { ...off, reason: 'SPLIT' } },
  { name: 'canary 100%: the highest bucket is in', definition: flag('ranker.policy', { stage: 'canary', percent: 100 }), unit: { targetingKey: unitAtBucket('ranker.policy', 9999) }, expected: { ...on, reason: 'SPLIT' } },
  { name: 'canary: an internal unit bucketed out still gets value', definition: flag('checkout.v2', { stage: 'canary', percent: 5, segments: [INTERNAL] }), unit: { targetingKey: 'alice@corp' }, expected: { ...on, reason: 'TARGETING_MATCH' } },
  { name: 'canary on a segment: a high-priority provider gets value', definition: flag('schema_finalization.providers', { stage: 'canary', percent: 0, segments: [HIGH_PRIORITY] }), unit: { targetingKey: 'fanduel' }, expected: { ...on, reason: 'TARGETING_MATCH' } },
  { name: 'canary on a segment: another provider gets the off value', definition: flag('schema_finalization.providers', { stage: 'canary', percent: 0, segments: [HIGH_PRIORITY] }), unit: { targetingKey: 'stub' }, expected: { ...off, reason: 'SPLIT' } },
  { name: 'canary without a targeting key gets the off value', definition: flag('ranker.policy', { stage: 'canary', percent: 50 }), unit: { email_domain: 'gmail.com' }, expected: { ...off, reason: 'DEFAULT' } },
  { name: 'canary: a non-ASCII targeting key is hashed as UTF-8', definition: flag('global.safe_mode', { stage: 'canary', percent: 50 }), unit: { targetingKey: 'José' }, expected: { ...(bucketOf('global.safe_mode', 'José') < 5000 ? on : off), reason: 'SPLIT' } },
  { name: 'full: everyone gets value', definition: flag('checkout.v2', { stage: 'full', segments: [INTERNAL] }), unit: { targetingKey: 'user-1' }, expected: { ...on, reason: 'STATIC' } },
  { name: 'full without a targeting key', definition: flag('checkout.v2', { stage: 'full' }), unit: {}, expected: { ...on, reason: 'STATIC' } },
  { name: 'kill switch without a rollout: everyone gets value', definition: flag('global.safe_mode', { value: { enabled: false }, offValue: { enabled: false }, killSwitch: true }), unit: { targetingKey: 'user-1' }, expected: { value: { enabled: false }, variant: 'on', reason: 'STATIC' } },
  { name: 'break-glass override beats every stage', definition: flag('global.safe_mode', { stage: 'canary', percent: 5, killSwitch: true, override: { enabled: true, version: 'v0' } }), unit: { targetingKey: unitFor('global.safe_mode', 5, 'in') }, expected: { value: { enabled: true, version: 'v0' }, variant: 'break-glass', reason: 'STATIC' } },
];
