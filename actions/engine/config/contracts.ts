/**
 * Contracts: JSON Schemas in contracts/<name>.schema.json that type flag values and
 * payloads. Loaded on first use, compiled once, reported with positions when broken.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { Problem } from '../problems.ts';
import { contractAjv } from './ajv.ts';
import { validateSchema2020, validateSchemaDraft07 } from './generated/meta-schema-validators.js';
import { locate, parseYamlSource } from './yaml-source.ts';
import { pointerTokens } from './schema-errors.ts';

export const CONTRACTS_DIR = 'contracts';
/** The tool's own file formats live beside the contracts but are not contracts. */
const RESERVED = new Set(['environment', 'repository']);
const SUFFIX = '.schema.json';

export type ContractLookup =
  | { ok: true; name: string; file: string; validate: ValidateFunction }
  | { ok: false; reason: 'missing' | 'broken' };

export class ContractRegistry {
  private readonly cache = new Map<string, ContractLookup>();
  /** Problems found in the contract files themselves (syntax, invalid schema). */
  readonly problems: Problem[] = [];
  private names: string[] | undefined;

  constructor(private readonly root: string) {}

  fileOf(name: string): string {
    return `${CONTRACTS_DIR}/${name}${SUFFIX}`;
  }

  /** Names of every contract in the repository, for "did you mean" and listings. */
  available(): string[] {
    if (!this.names) {
      try {
        this.names = readdirSync(join(this.root, CONTRACTS_DIR))
          .filter((f) => f.endsWith(SUFFIX))
          .map((f) => f.slice(0, -SUFFIX.length))
          .filter((n) => !RESERVED.has(n))
          .sort();
      } catch {
        this.names = [];
      }
    }
    return this.names;
  }

  get(name: string): ContractLookup {
    let found = this.cache.get(name);
    if (!found) {
      found = this.load(name);
      this.cache.set(name, found);
    }
    return found;
  }

  private load(name: string): ContractLookup {
    if (RESERVED.has(name) || !this.available().includes(name)) return { ok: false, reason: 'missing' };
    const file = this.fileOf(name);
    const text = readFileSync(join(this.root, file), 'utf8');
    // Parse JSON through the YAML parser (JSON is YAML) to get line/column for syntax errors.
    const source = parseYamlSource(file, text);
    if (source.data === undefined || source.problems.some((p) => p.severity === 'error')) {
      this.problems.push(...source.problems.map((p) => ({ ...p, message: `${p.message} (this contract is JSON Schema in JSON)` })));
      return { ok: false, reason: 'broken' };
    }
    // YAML accepts what JSON does not (a trailing comma, a comment, unquoted keys); every other
    // reader of this file (ajv in a service, an editor) will not: refuse it here (issue 13, defect 5).
    const strict = strictJsonProblem(file, text, (offset) => source.position(offset));
    if (strict) {
      this.problems.push(strict);
      return { ok: false, reason: 'broken' };
    }
    const schema = source.data as Record<string, unknown>;
    const dialect = typeof schema.$schema === 'string' && schema.$schema.includes('draft-07') ? 'draft-07' : '2020-12';
    const ajv = contractAjv(dialect);
    const validSchema = dialect === '2020-12' ? validateSchema2020 : validateSchemaDraft07;
    if (!validSchema(schema)) {
      // At the first offending keyword; the message names every one (anyOf alternatives included).
      const errors = validSchema.errors ?? [];
      const at = locate(source, pointerTokens(errors[0]?.instancePath ?? '', schema));
      this.problems.push({ file, ...at, severity: 'error', message: `not a valid JSON Schema: ${ajv.errorsText(errors, { dataVar: 'schema' })}` });
      return { ok: false, reason: 'broken' };
    }
    try {
      // Contracts may share $ids across files; key by file so two repos in one process do not collide.
      const { $id: _ignored, ...withoutId } = schema;
      const validate = ajv.compile(withoutId);
      return { ok: true, name, file, validate };
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      this.problems.push({ file, line: 1, column: 1, severity: 'error', message: `not a valid JSON Schema: ${message}` });
      return { ok: false, reason: 'broken' };
    }
  }
}

/** Where JSON.parse refuses the text, as a positioned problem; undefined when it is strict JSON. */
function strictJsonProblem(file: string, text: string, position: (offset: number) => { line: number; column: number }): Problem | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    const offset = Number(/at position (\d+)/.exec(message)?.[1] ?? 0);
    const comma = /,\s*$/.test(text.slice(0, offset)) && /^\s*[}\]]/.test(text.slice(offset)) ? text.lastIndexOf(',', offset) : -1;
    const near = comma >= 0 ? ' (a trailing comma: remove it)' : '';
    return { file, ...position(comma >= 0 ? comma : offset), severity: 'error', message: `not strict JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}${near}. A contract is JSON Schema in JSON, read as JSON by every tool.` };
  }
}
