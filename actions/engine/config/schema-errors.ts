/**
 * Turns ajv's errors into problems a person can act on: one per real mistake,
 * pinned to the YAML node, saying what was expected and how to fix it.
 */
import type { ErrorObject } from 'ajv';
import type { Severity } from '../problems.ts';
import { suggestion } from './suggest.ts';
import type { PathToken } from './yaml-source.ts';

export interface SchemaFinding {
  path: PathToken[];
  /** Point at the key rather than the value (unknown or misnamed keys). */
  key: boolean;
  severity: Severity;
  message: string;
}

interface SchemaLike {
  description?: string;
  properties?: Record<string, unknown>;
  enum?: unknown[];
  const?: unknown;
  oneOf?: unknown[];
}

/** Decode an ajv instancePath ("/flags/a~1b/value") into tokens, with array indexes as numbers. */
export function pointerTokens(pointer: string, data: unknown): PathToken[] {
  if (pointer === '') return [];
  const tokens: PathToken[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(token);
      tokens.push(index);
      node = node[index];
    } else {
      tokens.push(token);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[token] : undefined;
    }
  }
  return tokens;
}

/**
 * A user's word quoted in a message, shortened when long: a 1 MB key must not become a
 * 1 MB message (nor feed a 1 MB token to the output's secret masking).
 */
export const clip = (text: string, max = 80): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/** A readable path: flags["ranker.policy"].value.epsilon */
export function describePath(path: readonly PathToken[]): string {
  if (path.length === 0) return 'the file';
  return path
    .map((raw, i) => {
      if (typeof raw === 'number') return `[${raw}]`;
      const token = clip(raw);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(token)) return i === 0 ? token : `.${token}`;
      return `[${JSON.stringify(token)}]`;
    })
    .join('');
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : `${typeof value} ${show(value)}`;

/** Special wording, by the key that holds the value, where the generic message would be unhelpful. */
const ONE_OF_HINTS: Record<string, string> = {
  database:
    'database: set exactly one of url_env (the NAME of a variable holding the URL, e.g. url_env: STAGING_DATABASE_URL) or embedded (a local directory, e.g. embedded: .rollout/local).',
  on_breach: 'on_breach must be "report", or one action or a list of them: {kill_switch: <flag key>}, {dispatch: {event_type: <type>}} or {dispatch: {workflow: <file>.yml}}, {webhook: {url_env: <VARIABLE>}}.',
  dispatch: 'dispatch takes exactly one of event_type (a repository_dispatch, e.g. event_type: scale-workers) or workflow (a workflow_dispatch, e.g. workflow: rollback.yml, ref: main).',
  promotes_to: 'promotes_to must be an environment name (e.g. promotes_to: production) or a list of them (e.g. promotes_to: [prod-eu, prod-us]).',
};

/** What a `not` in the schema forbids, by the key it sits on. */
const NOT_HINTS: Record<string, string> = {
  when_flag: 'when_flag takes equals: (a value in the flag table) or variant: (on or off: what every unit is served), not both; keep one.',
};

export function humanizeSchemaErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  options: { basePath?: PathToken[]; subject?: string } = {},
): SchemaFinding[] {
  const base = options.basePath ?? [];
  const subject = options.subject ? `${options.subject}: ` : '';
  // A failed oneOf also reports every branch's complaints; keep only the oneOf itself.
  const branchPrefixes = errors.filter((e) => e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const findings: SchemaFinding[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (branchPrefixes.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    if (error.keyword === 'if' || error.keyword === 'anyOf') continue;
    // A bad map key fails both the key's own pattern and propertyNames; report it once.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    const finding = humanize(error, data, base, subject);
    const id = `${finding.path.join('\u0000')}|${finding.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    findings.push(finding);
  }
  return findings;
}

function humanize(error: ErrorObject, data: unknown, base: PathToken[], subject: string): SchemaFinding {
  const path = [...base, ...pointerTokens(error.instancePath, data)];
  const where = describePath(path);
  const parent = (error.parentSchema ?? {}) as SchemaLike;
  const expected = parent.description ? ` Expected: ${parent.description}` : '';
  const params = error.params as Record<string, unknown>;
  const at = (message: string, key = false, extraPath: PathToken[] = []): SchemaFinding => ({
    path: [...path, ...extraPath],
    key,
    severity: 'error',
    message: subject + message,
  });
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const hint = suggestion(name, allowed);
      const list = allowed.length > 0 && hint === '.' ? ` Allowed here: ${allowed.join(', ')}.` : '';
      return at(`unknown key '${clip(name)}' in ${where}${hint}${list}`, true, [name]);
    }
    case 'required':
      return at(`${where} is missing the required key '${String(params.missingProperty)}'; add it.`);
    case 'type':
      return at(`${where} must be ${article(String(params.type))}, not ${typeOf(valueAt(data, error.instancePath))}.${expected}`);
    case 'enum': {
      const value = valueAt(data, error.instancePath);
      const options = (params.allowedValues as unknown[]).map((v) => String(v));
      return at(`${where} is ${show(value)}, which is not one of: ${options.join(', ')}${suggestion(String(value), options)}`);
    }
    case 'const':
      return at(`${where} must be ${show(params.allowedValue)}, not ${show(valueAt(data, error.instancePath))}.`);
    case 'pattern':
      return at(`Invalid ${where} ${show(valueAt(data, error.instancePath))}.${expected || ` Expected text matching ${String(params.pattern)}.`}`);
    case 'propertyNames': {
      const name = String(params.propertyName);
      const names = (error.parentSchema as { propertyNames?: { $ref?: string; pattern?: string } })?.propertyNames;
      const description = (names?.$ref ?? '').includes('flagKey')
        ? ' Flag keys use letters, digits, ".", "_", ":" and "-", and start with a letter or digit.'
        : names?.pattern?.startsWith('^(/')
          ? ` Expected a JSON pointer into the body, such as "/${name.replace(/^\/+/, '')}".`
          : '';
      return at(`Invalid key ${show(name)} in ${where}.${description}`, true, [name]);
    }
    case 'format':
      return at(`${where} ${show(valueAt(data, error.instancePath))} is not a valid ${String(params.format)}${params.format === 'date' ? ' (write YYYY-MM-DD)' : ''}.`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return at(`${where} must be ${String(params.comparison)} ${String(params.limit)}, not ${show(valueAt(data, error.instancePath))}.`);
    case 'oneOf': {
      const hint = ONE_OF_HINTS[String(path[path.length - 1])];
      return at(hint ?? `${where} must match exactly one of the allowed forms.${expected}`);
    }
    case 'not':
      return at(NOT_HINTS[String(path[path.length - 1])] ?? `${where} is invalid.${expected}`);
    case 'uniqueItems':
      return at(`${where} lists the same item twice (items ${String(params.j)} and ${String(params.i)}); remove the duplicate.`);
    default:
      return at(`${where} ${error.message ?? 'is invalid'}.${expected}`);
  }
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'a map', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'null' };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const token of pointerTokens(pointer, data)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[token];
  }
  return node;
}
