import type { ValidateFunction } from 'ajv';

/** contracts/repository.schema.json (rollout.yaml), compiled ahead of time (scripts/compile-schemas.mjs). */
export declare const validateRepositorySettings: ValidateFunction;
