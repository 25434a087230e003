/** One configured ajv per dialect; schemas are compiled once and cached by ajv itself. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => void;

let environmentAjv: Ajv2020 | undefined;
/** Strict ajv for the tool's own schemas: a typo in them is our bug. */
export function toolAjv(): Ajv2020 {
  if (!environmentAjv) {
    // validateSchema: false skips compiling the 2020-12 meta-schema on every start (~100 ms of
    // CPU); our schema's validity is a test (test/config/environment-schema.test.ts), and
    // strict mode still rejects unknown keywords when it compiles.
    environmentAjv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true, validateSchema: false });
    addFormats(environmentAjv);
  }
  return environmentAjv;
}

/**
 * Lenient ajv for the user's contracts: unknown keywords (x-owner, examples, …) are
 * documentation, not errors. draft-07 and 2020-12 are both accepted, by $schema. A contract
 * is checked against its meta-schema before it is compiled (contracts.ts), by validators
 * compiled ahead of time: ajv would compile the meta-schema itself first (~25 ms).
 */
export function contractAjv(dialect: '2020-12' | 'draft-07'): Ajv | Ajv2020 {
  const cache = dialect === '2020-12' ? contract2020 : contract07;
  if (cache.instance) return cache.instance;
  const options = { allErrors: true, verbose: true, strict: false, allowUnionTypes: true, validateSchema: false } as const;
  const instance = dialect === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  addFormats(instance);
  cache.instance = instance;
  return instance;
}
const contract2020: { instance?: Ajv | Ajv2020 } = {};
const contract07: { instance?: Ajv | Ajv2020 } = {};
