/**
 * Total, typed parsing of what a GitHub Actions step receives: `INPUT_*` variables and the
 * run's `GITHUB_*` context. Pure functions of an environment object, never of a module
 * singleton, so that tests can call them with a plain object.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../engine/errors.ts';
import { planHashProblem } from '../engine/plan/hash.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the run is: repository, commit, event and the API to talk to. */
export interface RunContext {
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  eventName: string;
  /** The webhook payload of the event that started the run ({} when there is none). */
  event: Record<string, unknown>;
  apiUrl: string;
  /** Link to this run, for comments and deployment statuses. */
  runUrl: string;
  actor: string;
  /** The pull request the run is about, when the event has one. */
  pullRequest: number | null;
}

export interface ValidateInputs {
  root: string;
  environments: string[];
  strict: boolean;
  /** Base commit to compare with, to tell which environments a change affects. */
  baseSha: string | null;
  /** The environment applied only from a reviewed plan: apart in the workflow matrices. */
  productionEnvironment: string;
  context: RunContext;
}

/**
 * Database URLs given as inputs, for workflows that look secrets up by the names the files give
 * (`secrets[matrix.target.url_env]`): they reach the engine under those names. Null: not given,
 * the step's env: has them.
 */
export interface DatabaseUrlInputs {
  /** The environment's own database. */
  databaseUrl: string | null;
  /** The environment that promotes to this one (its gates read it; a read-only role is enough). */
  upstreamDatabaseUrl: string | null;
}

export interface PlanInputs extends DatabaseUrlInputs {
  root: string;
  environment: string;
  githubToken: string;
  comment: boolean;
  context: RunContext;
}

export interface ApplyInputs extends DatabaseUrlInputs {
  root: string;
  environment: string;
  githubToken: string;
  planHash: string | null;
  verify: boolean;
  deployment: boolean;
  /** A first apply may adopt canary or full positions the upstream has not reached (stages/first-apply.ts). */
  adopt: boolean;
  context: RunContext;
}

export interface VerifyInputs {
  root: string;
  databaseUrl: string | null;
  environment: string;
  context: RunContext;
}

export interface PromoteInputs {
  root: string;
  /** The database of `from`, and of the environment it promotes to (read-only roles are enough). */
  databaseUrl: string | null;
  targetDatabaseUrl: string | null;
  from: string;
  to: string | null;
  githubToken: string;
  base: string;
  context: RunContext;
}

export interface HealthInputs extends DatabaseUrlInputs {
  root: string;
  environment: string;
  githubToken: string;
  act: boolean;
  issue: boolean;
  /** Break-glass: set this kill switch now and open the PR that records it in Git. */
  killSwitch: string | null;
  reason: string | null;
  base: string;
  /** How much of the measurements the issue and the job summary show (auto: all of it unless the repository is public). */
  details: 'auto' | 'full' | 'summary';
  context: RunContext;
}

/** The variable @actions/core reads an input from: spaces become underscores, upper case; dashes stay. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export function readInput(env: Env, name: string, options: { required?: boolean; fallback?: string } = {}): string {
  const value = (env[inputVariable(name)] ?? '').trim();
  if (value !== '') return value;
  if (options.fallback !== undefined) return options.fallback;
  if (options.required) throw new UsageError(`Missing input '${name}'. Expected it under with: in the workflow step, e.g. ${name}: staging.`);
  return '';
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const text = readInput(env, name);
  if (text === '') return fallback;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  throw new UsageError(`Invalid input ${name} '${text}'. Expected true or false.`);
}

const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

function readEnvironmentName(env: Env, name: string, options: { required: boolean }): string {
  const text = readInput(env, name, { required: options.required });
  if (text !== '' && !ENVIRONMENT_NAME.test(text)) {
    throw new UsageError(`Invalid input ${name} '${text}'. Expected an environment name such as staging (the file environments/<name>.yaml).`);
  }
  return text;
}

/** Several names, separated by commas, spaces or new lines (a YAML block scalar works). */
export function readList(env: Env, name: string): string[] {
  return readInput(env, name)
    .split(/[\s,]+/)
    .filter((s) => s !== '');
}

export function readRoot(env: Env): string {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const root = readInput(env, 'root', { fallback: '.' });
  return isAbsolute(root) ? root : resolve(workspace, root);
}

function readToken(env: Env): string {
  return readInput(env, 'github-token', { required: true });
}

/** A commit SHA (full or abbreviated, as git accepts it). */
const SHA = /^[0-9a-f]{7,64}$/i;

export function readHash(env: Env, name: string): string | null {
  const text = readInput(env, name);
  if (text === '') return null;
  const problem = planHashProblem(text);
  if (problem) throw new UsageError(`Input ${name}: ${problem}`);
  return text.toLowerCase();
}

/** A database URL input; its value is a secret, so no message ever shows it. */
function readDatabaseUrl(env: Env, name: string): string | null {
  const text = readInput(env, name);
  if (text === '') return null;
  if (!/^postgres(ql)?:\/\//.test(text)) throw new UsageError(`Invalid input ${name} (its value is not shown). Expected a postgres:// or postgresql:// URL, e.g. database-url: \${{ secrets[matrix.target.url_env] }}.`);
  return text;
}

function readDatabaseUrls(env: Env): DatabaseUrlInputs {
  return { databaseUrl: readDatabaseUrl(env, 'database-url'), upstreamDatabaseUrl: readDatabaseUrl(env, 'upstream-database-url') };
}

export function readRunContext(env: Env): RunContext {
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const event = readEvent(env.GITHUB_EVENT_PATH);
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const pr = (event.pull_request as { number?: unknown } | undefined)?.number ?? (event.issue as { pull_request?: unknown; number?: unknown } | undefined)?.number;
  return {
    owner,
    repo,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    event,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    runUrl: env.GITHUB_RUN_ID ? `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}` : `${server}/${owner}/${repo}/actions`,
    actor: env.GITHUB_ACTOR ?? '',
    pullRequest: typeof pr === 'number' ? pr : null,
  };
}

function readEvent(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch (thrown) {
    throw new UsageError(`Invalid GITHUB_EVENT_PATH '${path}'. Expected a readable JSON webhook payload (GitHub sets it on every run).`, { cause: thrown });
  }
}

/** The base commit of a pull request, from its payload. */
function baseShaOf(context: RunContext): string | null {
  const base = (context.event.pull_request as { base?: { sha?: unknown } } | undefined)?.base?.sha;
  return typeof base === 'string' && SHA.test(base) ? base : null;
}

export function parseValidateInputs(env: Env): ValidateInputs {
  const context = readRunContext(env);
  const base = readInput(env, 'base-sha');
  if (base !== '' && !SHA.test(base)) throw new UsageError(`Invalid input base-sha '${base}'. Expected a commit SHA.`);
  return {
    root: readRoot(env),
    environments: readList(env, 'environments'),
    strict: readBoolean(env, 'strict', false),
    baseSha: base || baseShaOf(context),
    productionEnvironment: readEnvironmentName(env, 'production-environment', { required: false }) || 'production',
    context,
  };
}

export function parsePlanInputs(env: Env): PlanInputs {
  return {
    root: readRoot(env),
    environment: readEnvironmentName(env, 'environment', { required: true }),
    githubToken: readToken(env),
    comment: readBoolean(env, 'comment', true),
    ...readDatabaseUrls(env),
    context: readRunContext(env),
  };
}

export function parseApplyInputs(env: Env): ApplyInputs {
  return {
    root: readRoot(env),
    environment: readEnvironmentName(env, 'environment', { required: true }),
    githubToken: readToken(env),
    planHash: readHash(env, 'plan-hash'),
    verify: readBoolean(env, 'verify', true),
    deployment: readBoolean(env, 'deployment', true),
    adopt: readBoolean(env, 'adopt', false),
    ...readDatabaseUrls(env),
    context: readRunContext(env),
  };
}

export function parseVerifyInputs(env: Env): VerifyInputs {
  return { root: readRoot(env), environment: readEnvironmentName(env, 'environment', { required: true }), databaseUrl: readDatabaseUrl(env, 'database-url'), context: readRunContext(env) };
}

export function parsePromoteInputs(env: Env): PromoteInputs {
  const to = readEnvironmentName(env, 'to', { required: false });
  return {
    root: readRoot(env),
    from: readEnvironmentName(env, 'from', { required: true }),
    to: to || null,
    githubToken: readToken(env),
    base: readInput(env, 'base', { fallback: 'main' }),
    databaseUrl: readDatabaseUrl(env, 'database-url'),
    targetDatabaseUrl: readDatabaseUrl(env, 'target-database-url'),
    context: readRunContext(env),
  };
}

export function parseHealthInputs(env: Env): HealthInputs {
  const killSwitch = readInput(env, 'kill-switch');
  const reason = readInput(env, 'reason');
  if (killSwitch !== '' && reason === '') throw new UsageError("Missing input 'reason'. A kill switch is set only with a reason for the ledger, e.g. reason: burn rate 4.2 on checkout.");
  return {
    root: readRoot(env),
    environment: readEnvironmentName(env, 'environment', { required: true }),
    githubToken: readToken(env),
    act: readBoolean(env, 'act', true),
    issue: readBoolean(env, 'issue', true),
    killSwitch: killSwitch || null,
    reason: reason || null,
    base: readInput(env, 'base', { fallback: 'main' }),
    details: readDetails(env),
    ...readDatabaseUrls(env),
    context: readRunContext(env),
  };
}

function readDetails(env: Env): HealthInputs['details'] {
  const text = readInput(env, 'details', { fallback: 'auto' });
  if (text === 'auto' || text === 'full' || text === 'summary') return text;
  throw new UsageError(`Invalid input details '${text}'. Expected auto, full or summary.`);
}
