import type { ValidateFunction } from 'ajv';

/** contracts/environment.schema.json, compiled ahead of time (scripts/compile-schemas.mjs). */
export declare const validateEnvironment: ValidateFunction;
/** Its `$defs/check` alone: one entry of a shared check file (checks/NAME.yaml). */
export declare const validateCheck: ValidateFunction;
