/**
 * Deterministic bucketing: which units (users, accounts, requests…) are in a flag's
 * rollout at a given percent. The same rule is installed in the database as
 * rollout.bucket_of / rollout.in_rollout (see bucketing-sql.ts), and both must match
 * test/fixtures/bucketing-vectors.json. The algorithm is documented in docs/bucketing.md
 * so that services in any language can reimplement it.
 *
 *   bucket    = murmur3_x86_32(utf8(flagKey + ':' + unitId), seed 0) mod 10 000
 *   inRollout = bucket < round(percent × 100)
 *
 * Raising the percent only raises the threshold, so it only ever adds units.
 */
import murmurhash from 'murmurhash';

/** Number of buckets; a percent has a resolution of 100 / BUCKETS = 0.01. */
export const BUCKETS = 10_000;

/**
 * MurmurHash3 x86 32-bit of the UTF-8 bytes of `data` (strings are UTF-8 encoded, as by
 * TextEncoder), as an unsigned 32-bit integer.
 */
export function murmur3(data: string | Uint8Array, seed = 0): number {
  return murmurhash.v3(data, seed) >>> 0;
}

/** The bucket (0 … 9 999) of a unit for a flag. */
export function bucketOf(flagKey: string, unitId: string): number {
  return murmur3(`${flagKey}:${unitId}`, 0) % BUCKETS;
}

/**
 * The number of buckets in a rollout of `percent` (0 … 100, at most two decimals):
 * round(percent × 100). Throws a RangeError for anything else, because a percent that
 * cannot be represented exactly would be rounded differently by different languages.
 */
export function rolloutThreshold(percent: number): number {
  const scaled = Math.round(percent * 100);
  if (!Number.isFinite(percent) || percent < 0 || percent > 100 || Math.abs(percent * 100 - scaled) > 1e-6) {
    throw new RangeError(`Invalid rollout percent '${percent}'. Expected a number from 0 to 100 with at most two decimals, like 5 or 12.5.`);
  }
  return scaled;
}

/** Whether a unit is in a flag's rollout at `percent` (0 … 100, at most two decimals). */
export function inRollout(flagKey: string, unitId: string, percent: number): boolean {
  return bucketOf(flagKey, unitId) < rolloutThreshold(percent);
}
