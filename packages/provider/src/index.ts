export { BUCKETS, bucketOf, inRollout, murmur3, rolloutThreshold } from './bucket.ts';
export { STAGES, isProblem, parseDefinition, type DefinitionProblem, type DefinitionRow, type FlagDefinition, type JsonValue, type Scalar, type Segment, type Stage } from './definition.ts';
export { evaluate, inSegment, matchingSegment, type Reason, type Resolution, type UnitContext, type Variant } from './rule.ts';
export { DefinitionSet, flagTypeOf, type FlagValueOf, type ResolveOptions } from './evaluator.ts';
export { RolloutProvider, PROVIDER_NAME, type ConnectionSettings, type RolloutProviderOptions } from './provider.ts';
export { CHANNEL, parseNotice, type ChangeNotice } from './queries.ts';
