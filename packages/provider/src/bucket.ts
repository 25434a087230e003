/**
 * Which units are in a canary: the bucketing of flagd's `fractional` operation (flagd
 * testbed tag v2, as implemented by @openfeature/flagd-core 4.x), so that every flagd
 * provider in every language assigns the same units as rollout does:
 *
 *   hash   = MurmurHash3_x86_32(utf8(flagKey + targetingKey), seed 0)   (unsigned; no separator)
 *   bucket = (hash × 10 000) >> 32                                       (0 … 9 999)
 *   in     = bucket < round(percent × 100)
 *
 * Raising the percent only raises the threshold, so it only ever adds units. The same rule
 * is installed in Postgres as rollout.bucket_of / rollout.in_rollout; docs/bucketing.md
 * explains it for reimplementers, with golden vectors.
 */

/** Buckets per flag; a percent has a resolution of 100 / BUCKETS = 0.01. */
export const BUCKETS = 10_000;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

/** MurmurHash3 x86 32-bit of the UTF-8 bytes of `text`, as an unsigned 32-bit integer. */
export function murmur3(text: string, seed = 0): number {
  // ASCII text is its own UTF-8: hash its char codes directly and skip the encoder.
  // (Two copies of one loop, over a string and over bytes: a byte accessor per byte costs ~2×.)
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return murmur3Bytes(encoder.encode(text), seed);
  const length = text.length;
  const body = length - (length % 4);
  let h = seed >>> 0;
  for (let i = 0; i < body; i += 4) {
    h = mixBlock(h, text.charCodeAt(i) | (text.charCodeAt(i + 1) << 8) | (text.charCodeAt(i + 2) << 16) | (text.charCodeAt(i + 3) << 24));
  }
  const tail = length % 4;
  let k = 0;
  if (tail === 3) k ^= text.charCodeAt(body + 2) << 16;
  if (tail >= 2) k ^= text.charCodeAt(body + 1) << 8;
  if (tail >= 1) k ^= text.charCodeAt(body);
  return finish(tail > 0 ? mixTail(h, k) : h, length);
}

function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  const length = bytes.length;
  const body = length - (length % 4);
  let h = seed >>> 0;
  for (let i = 0; i < body; i += 4) h = mixBlock(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  const tail = length % 4;
  let k = 0;
  if (tail === 3) k ^= bytes[body + 2] << 16;
  if (tail >= 2) k ^= bytes[body + 1] << 8;
  if (tail >= 1) k ^= bytes[body];
  return finish(tail > 0 ? mixTail(h, k) : h, length);
}

function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

const mixTail = (h: number, k: number): number => h ^ scramble(k);

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The bucket (0 … 9 999) of a unit for a flag. hash × 10 000 < 2^46 is exact in a double,
 * and dividing by 2^32 is exact too, so this equals flagd's (hash × totalWeight) >> 32.
 */
export function bucketOf(flagKey: string, targetingKey: string): number {
  return Math.floor((murmur3(flagKey + targetingKey) * BUCKETS) / 4294967296);
}

/**
 * round(percent × 100): the number of buckets a canary at `percent` covers. Throws a
 * RangeError for a percent outside 0 … 100 or finer than 0.01, because such a percent
 * would be rounded differently by different languages.
 */
export function rolloutThreshold(percent: number): number {
  const scaled = Math.round(percent * 100);
  if (!Number.isFinite(percent) || percent < 0 || percent > 100 || Math.abs(percent * 100 - scaled) > 1e-6) {
    throw new RangeError(`Invalid rollout percent '${percent}'. Expected a number from 0 to 100 with at most two decimals, like 5 or 12.5.`);
  }
  return scaled;
}

/** Whether a unit is in a flag's canary at `percent`. */
export function inRollout(flagKey: string, targetingKey: string, percent: number): boolean {
  return bucketOf(flagKey, targetingKey) < rolloutThreshold(percent);
}
