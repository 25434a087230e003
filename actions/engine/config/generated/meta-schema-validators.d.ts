import type { ValidateFunction } from 'ajv';

/** The JSON Schema 2020-12 meta-schema, compiled ahead of time (scripts/compile-schemas.mjs). */
export declare const validateSchema2020: ValidateFunction;
/** The JSON Schema draft-07 meta-schema, compiled ahead of time. */
export declare const validateSchemaDraft07: ValidateFunction;
