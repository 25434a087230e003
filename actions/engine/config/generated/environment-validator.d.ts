import type { ValidateFunction } from 'ajv';

/** contracts/environment.schema.json, compiled ahead of time (scripts/compile-schemas.mjs). */
declare const validate: ValidateFunction;
export default validate;
