/**
 * `rollout import`: bring a flags table a team already has under Git. The live rows become
 * the environment file's desired state (plain values, no rollout), and a ledger entry of kind
 * `baseline` records that rollout took them as they were, so that the first plan after the
 * import shows no changes and drift is told from then on.
 *
 * Reading the table and checking it can serve as a flag store are the edges here; choosing
 * what to import, suggesting contracts and editing the file are pure.
 */
import type pg from 'pg';
import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import type { ContractRegistry } from '../config/contracts.ts';
import type { JsonValue } from '../config/model.ts';
import { UserError } from '../errors.ts';
import { suggestion } from '../config/suggest.ts';
import { quoteTable } from '../store/live-state.ts';

export interface FlagRow {
  key: string;
  value: JsonValue;
}

/** What the flag store needs of a table: (key text unique, value jsonb, updated_at timestamptz). */
export async function readFlagTable(client: pg.ClientBase, table: string): Promise<FlagRow[]> {
  const { rows: found } = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [quoteTable(table)]);
  const oid = found[0]?.oid;
  if (!oid) {
    const candidates = await candidateTables(client);
    throw new UserError(
      `there is no table ${table} in this database.${candidates.length > 0 ? ` Tables that look like a flags table (key, value jsonb): ${candidates.join(', ')}; pass one with --table.` : ' Pass the table your services read flags from with --table SCHEMA.TABLE.'}`,
    );
  }
  const { rows: columns } = await client.query<{ name: string; type: string }>(
    'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped',
    [oid],
  );
  const type = new Map(columns.map((c) => [c.name, c.type]));
  const { rows: unique } = await client.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                     WHERE i.indrelid = $1::oid AND i.indisunique AND i.indnkeyatts = 1 AND a.attname = 'key') AS ok`,
    [oid],
  );
  const problems: string[] = [];
  const has = [...type].map(([name, t]) => `${name} ${t}`).join(', ');
  if (!type.has('key')) problems.push('it has no column key (the flag name, text)');
  else if (!unique[0]?.ok) problems.push(`its key column is not unique: ALTER TABLE ${table} ADD PRIMARY KEY (key)`);
  if (!type.has('value')) problems.push('it has no column value (jsonb)');
  else if (type.get('value') !== 'jsonb') problems.push(`its value column is ${type.get('value')}, not jsonb: ALTER TABLE ${table} ALTER COLUMN value TYPE jsonb USING to_jsonb(value)`);
  if (!type.has('updated_at')) problems.push(`it has no updated_at column, which rollout sets on every write: ALTER TABLE ${table} ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
  if (problems.length > 0) {
    throw new UserError(`${table} cannot be a flag store as it is (columns: ${has}):\n${problems.map((p) => `  - ${p}`).join('\n')}\nChange it with a migration (the commands above), then import again.`);
  }
  // value::text and JSON.parse, as the planner reads it, so both see the same values.
  const { rows } = await client.query<{ key: string; value: string }>(`SELECT key, value::text AS value FROM ${quoteTable(table)} ORDER BY key`);
  return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as JsonValue }));
}

async function candidateTables(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%s.%s', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'key' AND NOT a.attisdropped)
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'value' AND a.atttypid = 'jsonb'::regtype AND NOT a.attisdropped)
      ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

// ---------------------------------------------------------------- what to import (pure)

export interface ImportSelection {
  /** Rows to write into the file, by key. */
  imported: FlagRow[];
  /** Keys the file already has: left as the file says (the plan shows any difference). */
  alreadyInFile: string[];
  /** Keys in the table that were not named: they stay unmanaged. */
  unmanaged: string[];
}

/** Every key the file lacks, or only the named ones; a named key the table lacks is an error. */
export function selectImport(rows: readonly FlagRow[], inFile: ReadonlySet<string>, named: readonly string[], table: string): ImportSelection {
  const keys = rows.map((r) => r.key);
  const missing = named.filter((k) => !keys.includes(k));
  if (missing.length > 0) {
    throw new UserError(missing.map((k) => `flag '${k}' is not in ${table}${suggestion(k, keys)}`).join('\n') + `\nKeys in ${table}: ${keys.join(', ') || '(none)'}.`);
  }
  const wanted = named.length > 0 ? new Set(named) : new Set(keys);
  return {
    imported: rows.filter((r) => wanted.has(r.key) && !inFile.has(r.key)),
    alreadyInFile: rows.filter((r) => wanted.has(r.key) && inFile.has(r.key)).map((r) => r.key),
    unmanaged: rows.filter((r) => !wanted.has(r.key) && !inFile.has(r.key)).map((r) => r.key),
  };
}

// ---------------------------------------------------------------- contract suggestions (pure)

export type ContractSuggestion =
  | { kind: 'existing'; name: string }
  | { kind: 'new'; name: string; schema: Record<string, JsonValue> };

/** A contract of the repository that accepts the value, or a schema inferred from it. Never applied. */
export function suggestContract(key: string, value: JsonValue, contracts: ContractRegistry): ContractSuggestion {
  for (const name of contracts.available()) {
    const found = contracts.get(name);
    if (found.ok && found.validate(value) === true) return { kind: 'existing', name };
  }
  const name = key.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'flag';
  return { kind: 'new', name, schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', title: key, ...inferSchema(value) } };
}

/** The narrowest plain schema the value satisfies: types, required keys, no others. */
export function inferSchema(value: JsonValue): Record<string, JsonValue> {
  if (value === null) return { type: 'null' };
  if (Array.isArray(value)) return value.length === 0 ? { type: 'array' } : { type: 'array', items: inferSchema(value[0]) };
  switch (typeof value) {
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'string':
      return { type: 'string' };
    default: {
      const keys = Object.keys(value).sort();
      return { type: 'object', required: keys, additionalProperties: false, properties: Object.fromEntries(keys.map((k) => [k, inferSchema(value[k])])) };
    }
  }
}

// ---------------------------------------------------------------- the file edit (pure)

export interface ImportedFlag extends FlagRow {
  suggestion: ContractSuggestion;
}

/**
 * The environment file with the imported flags appended to `flags:` (and `flag_store.table`
 * set when the file names none), every other byte as it was.
 */
export function addImportedFlags(file: string, text: string, flags: readonly ImportedFlag[], flagTable: string | undefined): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new UserError(`cannot edit ${file}: it is not valid YAML (${doc.errors[0].message}); run rollout validate.`);
  let out = text;
  const node = doc.get('flags', true);
  const blockLines = (indent: number): string[] => flags.flatMap((f) => flagLines(f, indent));
  if (flags.length > 0) {
    if (node === undefined || (isScalar(node) && node.value === null)) {
      // No flags yet (or `flags:` with nothing under it): a block of its own.
      const pair = doc.contents && isMap(doc.contents) ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'flags') : undefined;
      if (pair) {
        const keyEnd = (pair.key as { range: [number, number, number] }).range[1];
        const lineEnd = text.indexOf('\n', keyEnd);
        const end = lineEnd === -1 ? text.length : lineEnd;
        out = `${text.slice(0, keyEnd)}:\n${blockLines(2).join('\n')}${text.slice(end)}`;
      } else {
        out = `${text.replace(/\n*$/, '\n')}\nflags:\n${blockLines(2).join('\n')}\n`;
      }
    } else if (isMap(node) && node.flow && node.items.length === 0) {
      // `flags: {}` as init writes it.
      const [start, end] = node.range!;
      out = `${text.slice(0, start).trimEnd()}\n${blockLines(2).join('\n')}${text.slice(end)}`;
    } else if (isMap(node) && !node.flow) {
      const first = node.items[0]?.key as { range?: [number, number, number] } | undefined;
      const indent = first?.range ? first.range[0] - (text.lastIndexOf('\n', first.range[0] - 1) + 1) : 2;
      const end = node.range![1];
      const at = end > 0 && text[end - 1] === '\n' ? end : text.indexOf('\n', end) === -1 ? text.length : text.indexOf('\n', end) + 1;
      out = `${text.slice(0, at)}${at > 0 && text[at - 1] !== '\n' ? '\n' : ''}${blockLines(indent).join('\n')}\n${text.slice(at)}`;
    } else {
      throw new UserError(`cannot edit ${file}: its flags are written inline ({ … }); write them one per line under flags: and import again.`);
    }
  }
  return flagTable === undefined ? out : withFlagTable(file, out, flagTable);
}

function flagLines(flag: ImportedFlag, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const inner = ' '.repeat(indent + 2);
  const hint =
    flag.suggestion.kind === 'existing'
      ? `# suggested: contract: ${flag.suggestion.name} (contracts/${flag.suggestion.name}.schema.json accepts this value)`
      : `# suggested: a contract such as contracts/${flag.suggestion.name}.schema.json (rollout import printed one)`;
  return [`${pad}${stringify(flag.key, { lineWidth: 0 }).trimEnd()}:`, `${inner}value: ${inlineJson(flag.value)}`, `${inner}${hint}`];
}

/** Collections in flow style, as the files write them; a string always quoted, so `"yes"` never reads as a boolean to a YAML 1.1 eye. */
const inlineJson = (value: JsonValue): string =>
  value !== null && typeof value === 'object'
    ? stringify(value, { collectionStyle: 'flow', flowCollectionPadding: !Array.isArray(value), lineWidth: 0 }).trimEnd()
    : typeof value === 'string'
      ? JSON.stringify(value)
      : stringify(value, { lineWidth: 0 }).trimEnd();

/** `flag_store: { table: … }` before `flags:`, when the file names no table. */
function withFlagTable(file: string, text: string, table: string): string {
  const doc = parseDocument(text);
  const store = doc.get('flag_store', true);
  if (store !== undefined) {
    const named = doc.getIn(['flag_store', 'table']);
    if (named === table) return text;
    throw new UserError(`${file} already names flag_store ${typeof named === 'string' ? named : '(no table)'}; import from that table, or change flag_store.table to ${table} first.`);
  }
  const block = `flag_store:\n  table: ${table}     # the table the services already read (rollout import)\n`;
  // The commented example rollout init writes is replaced by the real thing.
  const example = /^# flag_store:\n# {3}table: .*\n/m.exec(text);
  if (example) return `${text.slice(0, example.index)}${block}${text.slice(example.index + example[0].length)}`;
  const flagsLine = /^flags:/m.exec(text);
  return flagsLine ? `${text.slice(0, flagsLine.index)}${block}\n${text.slice(flagsLine.index)}` : `${text.replace(/\n*$/, '\n')}\n${block}`;
}
