/**
 * The tool's own schema is compiled without meta-validation at run time (start-up speed),
 * so its validity against JSON Schema 2020-12 is checked here instead.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import environmentSchema from '../../contracts/environment.schema.json' with { type: 'json' };

describe('contracts/environment.schema.json', () => {
  it('is a valid JSON Schema (draft 2020-12)', () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, validateFormats: false });
    expect(ajv.validateSchema(environmentSchema), JSON.stringify(ajv.errors, null, 2)).toBe(true);
  });
});
