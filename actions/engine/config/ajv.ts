/**
 * ajv for the user's contracts, one per dialect. The tool's own schemas (environment files,
 * rollout.yaml, the meta-schemas) are compiled ahead of time by scripts/compile-schemas.mjs.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => void;

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
