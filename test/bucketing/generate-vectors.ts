/**
 * Writes test/fixtures/bucketing-vectors.json: `npx tsx test/bucketing/generate-vectors.ts`.
 *
 * The rule is flagd's fractional v2 (docs/bucketing.md): hash = murmur3_x86_32 of the UTF-8
 * bytes of flagKey + unitId (no separator), bucket = (hash × 10 000) >> 32. The hashes come
 * from murmurhash3js-revisited, an implementation independent of packages/provider/src/bucket.ts,
 * and the bucket is computed here with BigInt, so the vectors do not merely restate the code
 * they test; the published values are the classic MurmurHash3 x86_32 test values (SMHasher
 * family). test/serving/sql-evaluate.test.ts and flagd.test.ts check the same rule against
 * @openfeature/flagd-core itself.
 */
import { writeFileSync } from 'node:fs';
import reference from 'murmurhash3js-revisited';

const encoder = new TextEncoder();
const referenceHash = (text: string, seed = 0): number => reference.x86.hash32(encoder.encode(text), seed) >>> 0;

const FLAG_KEYS = [
  'checkout.v2',
  'global.safe_mode',
  'search.ranking.v3.shadow',
  'payments.consolidated_metrics',
  'a',
  'flag-with-dashes_and_underscores',
  'ünïcödé.flag',
  'x.y.z.w.v.u.t',
];

// A small deterministic generator, so the file is the same on every run.
let state = 0x2545f491;
const next = (): number => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
};
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(0, width);
const uuid = (): string => `${hex(next(), 8)}-${hex(next(), 4)}-4${hex(next(), 3)}-a${hex(next(), 3)}-${hex(next(), 8)}${hex(next(), 4)}`;

const fixedUnits = [
  '', '0', '1', '42', 'user-1', 'user-2', 'user:with:colons', 'with space', 'tab\there', 'line\nbreak',
  'José', 'Zoë', 'Ünïcödé', '日本語ユーザー', '사용자', 'пользователь', 'مستخدم', '😀', '👩‍👩‍👧‍👦 family', 'e\u0301 (combining)',
  'a'.repeat(256), 'long-'.repeat(200), '🎉'.repeat(300),
];

interface Vector { flagKey: string; unitId: string; murmur3: number; bucket: number; checks: { percent: number; inRollout: boolean }[] }

const vectors: Vector[] = [];
for (const flagKey of FLAG_KEYS) {
  const units = [...fixedUnits, uuid(), uuid(), `${next()}`, `acct_${hex(next(), 8)}@example.com`];
  for (const unitId of units) {
    const murmur3 = referenceHash(`${flagKey}${unitId}`);
    const bucket = Number((BigInt(murmur3) * 10_000n) >> 32n);
    const percents = [...new Set([0, 0.01, 5, 25, 50, 100, bucket / 100, (bucket + 1) / 100])].sort((a, b) => a - b);
    vectors.push({ flagKey, unitId, murmur3, bucket, checks: percents.map((percent) => ({ percent, inRollout: bucket < Math.round(percent * 100) })) });
  }
}

const published = [
  { input: '', seed: 0, murmur3: 0x00000000 },
  { input: '', seed: 1, murmur3: 0x514e28b7 },
  { input: '', seed: 0xffffffff, murmur3: 0x81f16f39 },
  { input: 'a', seed: 0x9747b28c, murmur3: 0x7fa09ea6 },
  { input: 'ab', seed: 0x9747b28c, murmur3: 0x74875592 },
  { input: 'abc', seed: 0x9747b28c, murmur3: 0xc84a62dd },
  { input: 'abcd', seed: 0x9747b28c, murmur3: 0xf0478627 },
  { input: 'aaaa', seed: 0x9747b28c, murmur3: 0x5a97808a },
  { input: 'Hello, world!', seed: 0x9747b28c, murmur3: 0x24884cba },
  { input: 'Hello, world!', seed: 1234, murmur3: 0xfaf6cdb3 },
  { input: 'ππππππππ', seed: 0x9747b28c, murmur3: 0xd58063c1 },
  { input: 'The quick brown fox jumps over the lazy dog', seed: 0x9747b28c, murmur3: 0x2fa826cd },
  { input: 'The quick brown fox jumps over the lazy dog', seed: 0, murmur3: 0x2e4ff723 },
  { input: 'hello', seed: 0, murmur3: 0x248bfa47 },
];
for (const p of published) {
  if (referenceHash(p.input, p.seed) !== p.murmur3) throw new Error(`The reference disagrees with the published value for ${JSON.stringify(p.input)}.`);
}

const file = {
  description: "Golden vectors for rollout bucketing, flagd's fractional v2 (docs/bucketing.md): bucket = (murmur3_x86_32(utf8(flagKey + unitId), seed 0) * 10000) >> 32; inRollout = bucket < round(percent * 100). Hashes from murmurhash3js-revisited; regenerate with npx tsx test/bucketing/generate-vectors.ts.",
  algorithm: { rule: 'flagd fractional v2 (flagd-testbed tag v2; @openfeature/flagd-core 4.0.1)', hash: 'murmur3_x86_32', seed: 0, input: 'utf8(flagKey + unitId)', buckets: 10_000, bucket: '(hash * 10000) >> 32', inRollout: 'bucket < round(percent * 100)' },
  published,
  vectors,
};
writeFileSync(new URL('../fixtures/bucketing-vectors.json', import.meta.url), `${JSON.stringify(file, null, 2)}\n`);
console.log(`Wrote ${vectors.length} vectors and ${published.length} published values.`);
