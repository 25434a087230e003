/**
 * One environment file: parsed with positions, checked against the format's schema,
 * flag values checked against their contracts, then turned into the typed model.
 */
import type { Problem } from '../problems.ts';
import { STAGES, type Stage } from '../stages/ladder.ts';
// The format's schema compiled ahead of time (scripts/compile-schemas.mjs): compiling it at
// start-up cost ~160 ms of every command.
import { validateEnvironment } from './generated/environment-validator.js';
import type { ContractRegistry } from './contracts.ts';
import { parseDuration } from './duration.ts';
import { checkExitCriteria, toExitCriteria } from './exit-criteria.ts';
import { checkReferences } from './reference-checks.ts';
import { checkFleetKeys, fleetModel, isFleetFile } from '../fleet/config.ts';
import { DEFAULT_CHECKS_ROLE, DEFAULT_MIGRATION_SETTINGS, type CheckSpec, type Environment, type FlagSpec, type JsonValue, type MonitorSpec, type Platform } from './model.ts';
import { clip, describePath, humanizeSchemaErrors } from './schema-errors.ts';
import { checkServing } from './serving-checks.ts';
import { checkSegments, declaredSegmentNames, mergeSegments, readSegments, type Segment } from './segments.ts';
import { suggestion } from './suggest.ts';
import { isSupabaseHistory } from '../db/platform-supabase.ts';
import { findStrings, locate, parseYamlSource, type PathToken, type YamlSource } from './yaml-source.ts';

export const ENVIRONMENTS_DIR = 'environments';
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9_-]{0,62}$/;


/**
 * The built-in contract of every kill switch (seed 001's global.safe_mode): exactly
 * {enabled: boolean}. Checked by hand: compiling the one-line schema with ajv cost a start-up
 * ~10 ms (an ajv instance and its formats) for a test this small.
 */
function isKillSwitchValue(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'enabled' && typeof (value as { enabled: unknown }).enabled === 'boolean';
}

/**
 * A URL with user:password@ in it: a secret that must never be in Git. The scheme is
 * bounded (RFC 3986 schemes are short) so a long run like "a.a.a.…" stays linear to scan.
 */
const URL_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/:@]+:[^\s/@]+@/i;

export interface EnvironmentFile {
  name: string;
  source: YamlSource;
  /** The typed model, present when the file has no errors of its own. */
  environment?: Environment;
  /** Raw fields other checks need even when the file has errors. */
  promotesTo?: string;
  /** Every name promotes_to gives (one, or a list). */
  promotesToAll: string[];
  flagKeys: string[];
  problems: Problem[];
}

/** What the repository declares for every environment (rollout.yaml). */
export interface SharedSettings {
  segments?: ReadonlyMap<string, Segment>;
}

export function readEnvironmentFile(file: string, text: string, contracts: ContractRegistry, now: Date, shared: SharedSettings = {}): EnvironmentFile {
  const name = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const source = parseYamlSource(file, text);
  const problems: Problem[] = [...source.problems];
  const report = (path: PathToken[], message: string, options: { key?: boolean; severity?: Problem['severity'] } = {}): void => {
    problems.push({ file, ...locate(source, path, options), severity: options.severity ?? 'error', message });
  };
  const result: EnvironmentFile = { name, source, promotesToAll: [], flagKeys: [], problems };

  if (!ENVIRONMENT_NAME.test(name)) {
    report([], `Invalid environment file name '${clip(name)}'. Expected lower-case letters, digits, '-' or '_' (e.g. environments/staging.yaml).`);
  }
  const data = source.data;
  if (data === undefined) return result;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    // The fix names this file's own environment, ready to paste (issue 13, defect 9; newcomer mistakes 12 and 13).
    const what = data === null ? 'is empty' : Array.isArray(data) ? 'is a list' : `is a single ${typeof data}`;
    const variable = `${ENVIRONMENT_NAME.test(name) ? name.toUpperCase().replace(/-/g, '_') : 'STAGING'}_DATABASE_URL`;
    report([], `${file} ${what}: an environment file is a map with at least \`version: 1\` and \`database:\`. Start it with:\n  version: 1\n  database:\n    url_env: ${variable}    # or embedded: .rollout/db for a local database`);
    return result;
  }
  const raw = data as Record<string, unknown>;
  result.promotesToAll = downstreamNames(raw.promotes_to);
  if (result.promotesToAll.length > 0) result.promotesTo = result.promotesToAll[0];
  const flags = isRecord(raw.flags) ? raw.flags : {};
  result.flagKeys = Object.keys(flags);

  // Name the secret after this environment (production → PRODUCTION_DATABASE_URL), so the fix can be pasted.
  const secretName = `${ENVIRONMENT_NAME.test(name) ? name.toUpperCase().replace(/-/g, '_') : 'STAGING'}_DATABASE_URL`;
  const validate = validateEnvironment;
  if (!validate(data)) {
    for (const finding of humanizeSchemaErrors(validate.errors ?? [], data)) {
      const message = variableNameMessage(finding.path, data, secretName);
      if (message === null) continue;
      report(finding.path, message ?? finding.message, { key: finding.key, severity: finding.severity });
    }
  }

  // Every string of the file is tested (30,000 at 10,000 flags): the expression needs a "://", and includes() finds none faster.
  for (const { path } of findStrings(source, (value) => value.includes('://') && URL_WITH_PASSWORD.test(value))) {
    report(
      path,
      `${describePath(path)} holds a URL with a literal password. Never put secrets in Git: store the URL in a secret (e.g. ${secretName}) and write only its name: database: { url_env: ${secretName} }.`,
    );
  }

  checkPlatform(raw, report);
  checkSegments(data, report);
  checkFleetKeys(raw, report);
  const known: KnownNames = { flags: new Set(result.flagKeys), segments: new Set([...(shared.segments?.keys() ?? []), ...declaredSegmentNames(data)]) };
  for (const [key, flag] of Object.entries(flags)) {
    if (isRecord(flag)) checkFlag(key, flag, known, contracts, now, report);
  }

  checkExitCriteria(raw, report);
  checkReferences(raw, flags, file, report);

  if (!problems.some((p) => p.severity === 'error')) {
    result.environment = toModel(name, file, raw, shared.segments ?? new Map());
    if (isFleetFile(raw)) result.environment.fleet = fleetModel(raw);
  }
  return result;
}

type Report = (path: PathToken[], message: string, options?: { key?: boolean; severity?: Problem['severity'] }) => void;

/**
 * database.platform: supabase asks rollout to create stand-ins for what a Supabase project
 * provides, which it does only on an embedded database. On a server it would be a promise
 * rollout does not keep (a Supabase server has the real objects; any other lacks them).
 */
function checkPlatform(raw: Record<string, unknown>, report: Report): void {
  const database = raw.database;
  if (!isRecord(database)) return;
  const directory = isRecord(raw.migrations) ? raw.migrations.directory : undefined;
  if (typeof database.embedded === 'string' && database.platform === undefined && typeof directory === 'string' && isSupabaseHistory(directory)) {
    report(
      ['database', 'embedded'],
      `The migrations come from ${directory}, a Supabase history, which expects what a Supabase project provides (auth.users, the anon and authenticated roles, the extensions schema…). ` +
        'Add platform: supabase to this database so that the embedded database has stand-ins for them (or platform: postgres to say the history needs none).',
      { severity: 'warning' },
    );
  }
  if (database.platform !== 'supabase' || database.url_env === undefined) return;
  report(
    ['database', 'platform'],
    'database.platform: supabase applies to an embedded database only (rollout then creates stand-ins for the roles, schemas and publication a Supabase project has, before migrations run). ' +
      'A server named by url_env is a Supabase project, which has the real ones, or another Postgres, which needs them created by a migration. Remove platform: from this database, or use embedded: .rollout/<name>.',
  );
}

/** Names a flag may refer to that live outside the flag itself. */
interface KnownNames {
  flags: ReadonlySet<string>;
  segments: ReadonlySet<string>;
}

function checkFlag(key: string, flag: Record<string, unknown>, known: KnownNames, contracts: ContractRegistry, now: Date, report: Report): void {
  const at = ['flags', key];
  const name = clip(key);
  // value and off_value obey the same contract: both are served to units.
  for (const field of ['value', 'off_value'] as const) {
    if (!(field in flag)) continue;
    if (typeof flag.contract === 'string') {
      const found = contracts.get(flag.contract);
      if (found.ok) {
        if (!found.validate(flag[field])) {
          const findings = humanizeSchemaErrors(found.validate.errors ?? [], flag[field], { basePath: [...at, field] });
          for (const finding of findings) {
            report(finding.path, `${finding.message.replace(/\.$/, '')} (contract '${flag.contract}', ${found.file}).`, { key: finding.key });
          }
        }
      } else if (found.reason === 'missing' && field === 'value') {
        const available = contracts.available();
        report(
          [...at, 'contract'],
          `contract '${clip(flag.contract)}' not found: expected a JSON Schema at ${contracts.fileOf(clip(flag.contract))}${suggestion(flag.contract, available)}${available.length ? ` Available: ${available.join(', ')}.` : ''}`,
        );
      }
    } else if (flag.kill_switch === true) {
      if (!isKillSwitchValue(flag[field])) {
        report([...at, field], `flag '${name}' is a kill switch, so its ${field} must be {enabled: true} or {enabled: false}.`);
      }
    }
  }
  checkServing(key, flag, known.segments, report);
  const rollout = flag.rollout;
  if (isRecord(rollout)) {
    // A percent of the wrong type is reported by the schema: "has no percent" would be a wrong second error.
    if (rollout.stage === 'canary' && rollout.percent === undefined && !(Array.isArray(rollout.segments) && rollout.segments.length > 0)) {
      report([...at, 'rollout'], `flag '${name}' is at stage canary but has no percent; add e.g. percent: 5 (or segments: [name] for a rung of named units only).`);
    }
    if (rollout.stage !== 'canary' && typeof rollout.percent === 'number' && (STAGES as readonly unknown[]).includes(rollout.stage)) {
      report([...at, 'rollout', 'percent'], `percent only applies to the canary stage; flag '${name}' is at stage ${rollout.stage as Stage}. Remove percent, or set stage: canary.`);
    }
  }
  if (Array.isArray(flag.depends_on)) {
    flag.depends_on.forEach((entry: unknown, index) => {
      // `{ flag, for }` names its dependency under flag:, and is reported there.
      const dependency = isRecord(entry) ? entry.flag : entry;
      if (typeof dependency !== 'string') return;
      const where = isRecord(entry) ? [...at, 'depends_on', index, 'flag'] : [...at, 'depends_on', index];
      if (dependency === key) report(where, `flag '${name}' cannot depend on itself.`);
      else if (!known.flags.has(dependency)) {
        report(where, `flag '${name}' depends on '${clip(dependency)}', which is not a flag of this environment${suggestion(dependency, known.flags)}`);
      }
    });
  }
  if (typeof flag.expires === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(flag.expires)) {
    const expires = Date.parse(`${flag.expires}T00:00:00Z`);
    if (!Number.isNaN(expires) && expires <= now.getTime()) {
      report([...at, 'expires'], `flag '${name}' expired on ${flag.expires}: remove the flag once its code path is cleaned up, or extend the date.`, { severity: 'warning' });
    }
  }
}

type DependencyEntry = string | { flag: string; for: string };

/** depends_on as keys, and the soaks of those given as `{ flag, for }`. */
function dependenciesOf(entries: readonly DependencyEntry[] = []): Pick<FlagSpec, 'dependsOn' | 'dependencySoaks'> {
  const soaks = new Map<string, string>();
  for (const entry of entries) if (typeof entry !== 'string') soaks.set(entry.flag, entry.for);
  return { dependsOn: entries.map((entry) => (typeof entry === 'string' ? entry : entry.flag)), ...(soaks.size ? { dependencySoaks: soaks } : {}) };
}

/** Only called on a file the schema accepted, so the casts below are checked facts. */
function toModel(name: string, file: string, raw: Record<string, unknown>, sharedSegments: ReadonlyMap<string, Segment>): Environment {
  // A fleet has no database: of its own (targets: instead); fleet/config.ts gives each target one.
  const db = (raw.database ?? {}) as {
    url_env?: string;
    embedded?: string;
    readonly_url_env?: string;
    platform?: Platform;
    checks_role?: { name?: string; manage?: boolean; schemas?: string[] };
  };
  const migrations = (raw.migrations ?? {}) as {
    directory?: string;
    lock_timeout?: string;
    statement_timeout?: string;
    advisory_lock?: { mode?: 'wait' | 'fail'; timeout?: string };
    backup?: { directory: string };
    allow_out_of_order?: boolean;
    allow_missing?: boolean;
    flush?: 'run' | 'file';
  };
  const defaults = DEFAULT_MIGRATION_SETTINGS;
  const flags = new Map<string, FlagSpec>();
  for (const [key, value] of Object.entries((raw.flags ?? {}) as Record<string, Record<string, unknown>>)) {
    const rollout = value.rollout as { stage: Stage; percent?: number; segments?: string[] } | undefined;
    flags.set(key, {
      key,
      value: value.value as JsonValue,
      ...('off_value' in value ? { offValue: value.off_value as JsonValue } : {}),
      contract: value.contract as string | undefined,
      killSwitch: value.kill_switch === true,
      owner: value.owner as string | undefined,
      description: value.description as string | undefined,
      expires: value.expires as string | undefined,
      ...dependenciesOf(value.depends_on as DependencyEntry[] | undefined),
      rollout: rollout ? rolloutModel(rollout) : undefined,
      ...(value.exit_criteria ? { exitCriteria: toExitCriteria(value.exit_criteria) } : {}),
    });
  }
  return {
    name,
    file,
    description: raw.description as string | undefined,
    database: db.url_env
      ? { kind: 'url', urlEnv: db.url_env, ...(db.readonly_url_env ? { readonlyUrlEnv: db.readonly_url_env } : {}) }
      : db.embedded !== undefined
        ? { kind: 'embedded', dir: db.embedded, ...(db.platform === 'supabase' ? { platform: db.platform } : {}) }
        : { kind: 'fleet' },
    ...(db.checks_role
      ? {
          checksRole: {
            name: db.checks_role.name ?? DEFAULT_CHECKS_ROLE.name,
            manage: db.checks_role.manage ?? DEFAULT_CHECKS_ROLE.manage,
            schemas: db.checks_role.schemas ?? DEFAULT_CHECKS_ROLE.schemas,
          },
        }
      : {}),
    promotesTo: downstreamNames(raw.promotes_to)[0],
    ...(downstreamNames(raw.promotes_to).length > 1 ? { promotesToAll: downstreamNames(raw.promotes_to) } : {}),
    flagTable: (raw.flag_store as { table?: string } | undefined)?.table,
    ...(raw.export ? { export: { file: (raw.export as { file: string }).file, format: 'flagd' as const } } : {}),
    migrations: {
      directory: migrations.directory ?? defaults.directory,
      lockTimeoutMs: duration(migrations.lock_timeout, defaults.lockTimeoutMs),
      statementTimeoutMs: duration(migrations.statement_timeout, defaults.statementTimeoutMs),
      advisoryLock: {
        mode: migrations.advisory_lock?.mode ?? defaults.advisoryLock.mode,
        timeoutMs: duration(migrations.advisory_lock?.timeout, defaults.advisoryLock.timeoutMs),
      },
      ...(migrations.backup ? { backup: { directory: migrations.backup.directory } } : {}),
      allowOutOfOrder: migrations.allow_out_of_order ?? defaults.allowOutOfOrder,
      allowMissing: migrations.allow_missing ?? defaults.allowMissing,
      flush: migrations.flush ?? defaults.flush,
    },
    flags,
    segments: mergeSegments(sharedSegments, readSegments(raw)),
    checks: (raw.checks ?? []) as CheckSpec[],
    monitors: (raw.monitors ?? []) as MonitorSpec[],
    ...(raw.exit_criteria ? { exitCriteria: toExitCriteria(raw.exit_criteria) } : {}),
  };
}

/** A canary rung of segments only has percent 0: the ladder's 0 step. */
function rolloutModel(rollout: { stage: Stage; percent?: number; segments?: string[] }): NonNullable<FlagSpec['rollout']> {
  const percent = rollout.percent ?? (rollout.stage === 'canary' ? 0 : undefined);
  return { stage: rollout.stage, ...(percent !== undefined ? { percent } : {}), ...(rollout.segments?.length ? { segments: [...rollout.segments] } : {}) };
}

/** promotes_to as written: one name or a list of them (anything else is the schema's to report). */
const downstreamNames = (value: unknown): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Every environment `env` promotes to. */
export const downstreamsOf = (env: Pick<Environment, 'promotesTo' | 'promotesToAll'>): string[] => env.promotesToAll ?? (env.promotesTo !== undefined ? [env.promotesTo] : []);

const duration = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : (parseDuration(text) ?? fallback));

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A database.url_env (or readonly_url_env) that is not an upper-case variable name: the fix,
 * ready to paste (newcomer mistake 22). null: a URL with a password, which its own error
 * reports (once, not twice: mistake 11). undefined: not such a finding.
 */
function variableNameMessage(path: readonly PathToken[], data: unknown, secretName: string): string | null | undefined {
  if (path.length !== 2 || path[0] !== 'database' || (path[1] !== 'url_env' && path[1] !== 'readonly_url_env')) return undefined;
  const value = isRecord(data) && isRecord(data.database) ? data.database[path[1]] : undefined;
  if (typeof value !== 'string') return undefined;
  if (URL_WITH_PASSWORD.test(value)) return null;
  const variable = path[1] === 'readonly_url_env' ? secretName.replace(/_DATABASE_URL$/, '_READONLY_DATABASE_URL') : secretName;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    const upper = value.toUpperCase();
    return `database.${path[1]} must name an environment variable in upper case, not "${clip(value)}": write ${path[1]}: ${upper} (and set ${upper} to the database URL where rollout runs).`;
  }
  return `database.${path[1]} holds "${clip(value)}", which is not the name of an environment variable: put the database URL in a secret or variable (e.g. ${variable}) and write ${path[1]}: ${variable}.`;
}
