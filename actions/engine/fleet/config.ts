/**
 * The fleet part of an environment file: `targets:` (or `targets_from:`), `target_url_env:`
 * and `waves:`. The schema checks their shape; this checks what a schema cannot (one of
 * database / targets / targets_from, unique names, waves naming targets that exist) and
 * builds the model. The same target checks serve a list read at run time (a JSON file, a
 * control database), which no schema saw.
 */
import { parseDuration } from '../config/duration.ts';
import { clip } from '../config/schema-errors.ts';
import { suggestion } from '../config/suggest.ts';
import type { PathToken } from '../config/yaml-source.ts';
import type { Severity } from '../problems.ts';
import { REST_WAVE, type FleetSpec, type FleetTarget, type TargetDatabase, type TargetSource, type WaveSelector, type WaveSpec } from './model.ts';

export type FleetReport = (path: PathToken[], message: string, options?: { key?: boolean; severity?: Severity }) => void;

const TARGET_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const ENV_VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;
const LABEL_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
const TARGET_KEYS = ['name', 'url_env', 'readonly_url_env', 'embedded', 'labels'];
const SELECTORS = ['targets', 'labels', 'percent'] as const;

/** True when the file describes a fleet (and so has no `database:`). */
export const isFleetFile = (raw: Record<string, unknown>): boolean => 'targets' in raw || 'targets_from' in raw;

/** Problems of the fleet keys that the schema cannot see; reported at their YAML nodes. */
export function checkFleetKeys(raw: Record<string, unknown>, report: FleetReport): void {
  const present = (['database', 'targets', 'targets_from'] as const).filter((key) => key in raw);
  if (present.length === 0) {
    report([], 'An environment names where its live state is: add database: { url_env: NAME } for one database, or targets: (a list of databases) for a fleet; see docs/fleets.md.');
  }
  for (const extra of present.slice(1)) {
    report([extra], `${present[0]}: and ${extra}: cannot both be set: an environment is one database (database:) or a fleet (targets: or targets_from:). Keep one.`, { key: true });
  }
  if (!isFleetFile(raw)) {
    for (const key of ['waves', 'target_url_env'].filter((k) => k in raw)) {
      report([key], `${key}: applies to a fleet only; this environment has one database. Replace database: with targets:, or remove ${key}:.`, { key: true });
    }
    return;
  }
  const template = typeof raw.target_url_env === 'string' ? raw.target_url_env : undefined;
  let names: Set<string> | undefined;
  if (Array.isArray(raw.targets)) {
    readTargetList(raw.targets, template, (path, message, at) => report(['targets', ...path], message, at), { schemaChecked: true });
    names = new Set(raw.targets.flatMap((t) => (typeof (t as { name?: unknown })?.name === 'string' ? [(t as { name: string }).name] : [])));
  }
  if (Array.isArray(raw.waves)) checkWaves(raw.waves, names, report);
}

/**
 * Targets from a list as written (in the file, a JSON file or a control database's rows):
 * each problem reported at its item, every item checked; the targets without problems returned.
 */
export function readTargetList(
  items: readonly unknown[],
  urlEnvTemplate: string | undefined,
  report: (path: PathToken[], message: string, options?: { key?: boolean }) => void,
  options: { schemaChecked?: boolean } = {},
): FleetTarget[] {
  const targets: FleetTarget[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      report([index], `target ${index + 1} must be a map such as { name: acme, url_env: TENANT_ACME_URL }.`);
      return;
    }
    const t = item as Record<string, unknown>;
    let ok = true;
    const fail = (path: PathToken[], message: string, shape = true, key = false): void => {
      ok = false;
      // A list in the environment file has been through the schema, which reported its shape.
      if (!shape || !options.schemaChecked) report([index, ...path], message, { key });
    };
    for (const key of Object.keys(t)) {
      if (!TARGET_KEYS.includes(key)) fail([key], `unknown key '${clip(key)}' in target ${index + 1}${suggestion(key, TARGET_KEYS)} Allowed: ${TARGET_KEYS.join(', ')}.`, true, true);
    }
    const name = typeof t.name === 'string' ? t.name : undefined;
    if (name === undefined) fail([], `target ${index + 1} has no name: add name: (lower-case letters, digits, '.', '-', '_').`);
    else if (!TARGET_NAME.test(name)) fail(['name'], `Invalid target name '${clip(name)}'. Expected lower-case letters, digits, '.', '-' or '_' (e.g. acme or eu-1).`);
    else if (seen.has(name)) fail(['name'], `target '${name}' is listed twice (items ${seen.get(name)! + 1} and ${index + 1}); target names are unique in a fleet.`, false);
    else seen.set(name, index);
    for (const key of ['url_env', 'readonly_url_env'] as const) {
      if (t[key] !== undefined && (typeof t[key] !== 'string' || !ENV_VAR_NAME.test(t[key]))) {
        fail([key], `${key} of target '${clip(name ?? String(index + 1))}' must be the NAME of an environment variable (upper case, e.g. TENANT_ACME_URL), never the URL itself.`);
      }
    }
    if (t.embedded !== undefined && (typeof t.embedded !== 'string' || t.embedded === '')) fail(['embedded'], 'embedded must be a directory, relative to the repository.');
    if (t.url_env !== undefined && t.embedded !== undefined) fail(['embedded'], `target '${clip(name ?? '')}' has both url_env and embedded; a target is one database: keep one.`, false);
    const labels: Record<string, string> = {};
    if (t.labels !== undefined) {
      if (t.labels === null || typeof t.labels !== 'object' || Array.isArray(t.labels)) fail(['labels'], 'labels must be a map of names to text, e.g. { region: eu, tier: gold }.');
      else {
        for (const [label, value] of Object.entries(t.labels)) {
          if (!LABEL_NAME.test(label)) fail(['labels', label], `Invalid label name '${clip(label)}'. Expected lower-case letters, digits, '.', '-' or '_'.`);
          else if (typeof value !== 'string') fail(['labels', label], `label ${label} must be text (quote numbers: "1").`);
          else labels[label] = value;
        }
      }
    }
    if (!ok || name === undefined) return;
    const database = targetDatabase(name, t, urlEnvTemplate);
    if (!database) {
      report([index], `target '${name}' does not say where its database is: add url_env: NAME (the secret holding its URL) or embedded: DIR, or set target_url_env: TENANT_{NAME}_URL at the top of the file to name every target's secret by convention.`);
      return;
    }
    targets.push({ name, database, labels });
  });
  return targets;
}

function targetDatabase(name: string, t: Record<string, unknown>, template: string | undefined): TargetDatabase | undefined {
  const readonly = typeof t.readonly_url_env === 'string' ? { readonlyUrlEnv: t.readonly_url_env } : {};
  if (typeof t.embedded === 'string') return { kind: 'embedded', dir: t.embedded };
  if (typeof t.url_env === 'string') return { kind: 'url', urlEnv: t.url_env, ...readonly };
  if (template) return { kind: 'url', urlEnv: conventionalUrlEnv(template, name), ...readonly };
  return undefined;
}

/** TENANT_{NAME}_URL for target eu-west.1 → TENANT_EU_WEST_1_URL. */
export function conventionalUrlEnv(template: string, name: string): string {
  return template.replace('{NAME}', name.toUpperCase().replace(/[-.]/g, '_'));
}

function checkWaves(waves: readonly unknown[], targetNames: ReadonlySet<string> | undefined, report: FleetReport): void {
  const waveNames = new Map<string, number>();
  const claimed = new Map<string, string>();
  waves.forEach((wave, index) => {
    if (wave === null || typeof wave !== 'object' || Array.isArray(wave)) return;
    const w = wave as Record<string, unknown>;
    const at: PathToken[] = ['waves', index];
    const name = typeof w.name === 'string' ? w.name : `${index + 1}`;
    if (waveNames.has(name)) report([...at, 'name'], `wave '${name}' is declared twice (waves ${waveNames.get(name)! + 1} and ${index + 1}); wave names are unique.`);
    else waveNames.set(name, index);
    if (name === REST_WAVE && index !== waves.length - 1) report([...at, 'name'], `'${REST_WAVE}' names the last wave (every target no earlier wave took); call this one something else.`);
    const selectors = SELECTORS.filter((key) => key in w);
    if (selectors.length > 1) {
      report([...at, selectors[1]], `wave '${name}' selects by ${selectors.join(' and ')}; a wave selects by one of targets, labels or percent (or none of them: all the rest). Split it into two waves.`, { key: true });
    }
    if (selectors.length === 0 && index !== waves.length - 1) {
      report(at, `wave '${name}' selects no targets by name, label or percent, so it takes all the rest and the waves after it get none. Make it the last wave, or give it a selector.`, { severity: 'warning' });
    }
    if (Array.isArray(w.targets)) {
      w.targets.forEach((target, j) => {
        if (typeof target !== 'string') return;
        if (targetNames && !targetNames.has(target)) report([...at, 'targets', j], `wave '${name}' names target '${clip(target)}', which is not in targets:${suggestion(target, targetNames)}`);
        else if (claimed.has(target)) report([...at, 'targets', j], `target '${clip(target)}' is already in wave '${claimed.get(target)}'; a target belongs to one wave.`);
        else claimed.set(target, name);
      });
    }
  });
}

/** The fleet model of a file the schema and checkFleetKeys accepted (so the casts are checked facts). */
export function fleetModel(raw: Record<string, unknown>): FleetSpec {
  const template = typeof raw.target_url_env === 'string' ? raw.target_url_env : undefined;
  return {
    source: targetSource(raw, template),
    ...(template ? { urlEnvTemplate: template } : {}),
    waves: ((raw.waves ?? []) as Record<string, unknown>[]).map(waveModel),
  };
}

function targetSource(raw: Record<string, unknown>, template: string | undefined): TargetSource {
  if (Array.isArray(raw.targets)) return { kind: 'list', targets: readTargetList(raw.targets, template, () => undefined) };
  const from = raw.targets_from as { file?: string; query?: string; control_url_env?: string };
  return from.file !== undefined ? { kind: 'file', file: from.file } : { kind: 'query', sql: from.query!, controlUrlEnv: from.control_url_env! };
}

function waveModel(w: Record<string, unknown>): WaveSpec {
  const select: WaveSelector = Array.isArray(w.targets)
    ? { kind: 'names', names: w.targets as string[] }
    : w.labels !== undefined
      ? { kind: 'labels', labels: w.labels as Record<string, string> }
      : typeof w.percent === 'number'
        ? { kind: 'percent', percent: w.percent }
        : { kind: 'rest' };
  return {
    name: w.name as string,
    select,
    soakMs: typeof w.soak === 'string' ? (parseDuration(w.soak) ?? 0) : 0,
    budget: {
      ...(typeof w.max_failures === 'number' ? { maxFailures: w.max_failures } : {}),
      ...(typeof w.max_failure_rate === 'number' ? { maxFailureRate: w.max_failure_rate } : {}),
    },
  };
}
