/**
 * Bucketing for the engine: one home. The TypeScript rule is the provider package's
 * (packages/provider/src/bucket.ts, flagd's fractional v2), imported rather than copied, so
 * that the plan, the SQL functions installed by apply (BUCKETING_SQL, the same rule in
 * Postgres) and every service reading through the provider agree; docs/bucketing.md.
 */
export { BUCKETS, bucketOf, inRollout, murmur3, rolloutThreshold } from '../../../packages/provider/src/bucket.ts';
export { BUCKETING_SQL } from './bucketing-sql.ts';
