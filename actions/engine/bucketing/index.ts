export { BUCKETS, bucketOf, inRollout, murmur3, rolloutThreshold } from './bucketing.ts';
export { BUCKETING_SQL } from './bucketing-sql.ts';
