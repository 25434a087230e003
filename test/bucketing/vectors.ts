import { readFileSync } from 'node:fs';

export interface BucketingVector {
  flagKey: string;
  unitId: string;
  murmur3: number;
  bucket: number;
  checks: { percent: number; inRollout: boolean }[];
}

export interface BucketingVectors {
  published: { input: string; seed: number; murmur3: number }[];
  vectors: BucketingVector[];
}

export const loadVectors = (): BucketingVectors =>
  JSON.parse(readFileSync(new URL('../fixtures/bucketing-vectors.json', import.meta.url), 'utf8')) as BucketingVectors;
