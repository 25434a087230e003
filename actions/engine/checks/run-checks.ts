/**
 * Running an environment's checks: a fixed number of workers (default 4) take checks
 * from one queue; each worker owns one connection, so a slow check delays only its
 * worker. Each check has a timeout (its own `timeout`, or the run's default). On the
 * embedded database every connection shares PGlite's one session, so checks there run
 * one at a time: in parallel they would be no faster, and a check past its deadline
 * restarts the database under its neighbours.
 */
import { ContractRegistry } from '../config/contracts.ts';
import { formatDuration, parseDuration } from '../config/duration.ts';
import type { FlagDefinition } from '../../../packages/provider/src/definition.ts';
import type { Environment, JsonValue } from '../config/model.ts';
import { toError } from '../errors.ts';
import { checkConnection, ChecksRoleError, CheckTimeoutError, RefusedQueryError, SideEffectError, type CheckAccess, type CheckConnection } from './guard.ts';
import { CheckConfigError, kindOf, runKind, type KindContext } from './kinds.ts';
import { conditionHolds, unmetDetail } from './flag-condition.ts';
import { resolveChecks } from './shared-checks.ts';
import { summarize, type CheckReport, type CheckResult, type ResolvedCheck } from './types.ts';
import { cleanupFailed } from '../cleanup.ts';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_VIOLATIONS = 5;

export interface RunChecksOptions {
  root: string;
  processEnv: NodeJS.ProcessEnv;
  /** How to reach the environment's database (guard.ts checkAccess); the runner ends the connections it opens. */
  access: CheckAccess;
  /** Live flag values (the value table), for when_flag. */
  flags: ReadonlyMap<string, JsonValue>;
  /** Live flag definitions, for when_flag's `variant:` (what every unit is served); without them such a check is skipped. */
  definitions?: ReadonlyMap<string, FlagDefinition>;
  concurrency?: number;
  /** Default per-check timeout; a check's own `timeout` wins. */
  timeoutMs?: number;
  maxViolations?: number;
  contracts?: ContractRegistry;
}

/** Resolve `use` entries and run every check of an environment. */
export function runEnvironmentChecks(env: Environment, options: RunChecksOptions): Promise<CheckReport> {
  return runChecks(env.name, resolveChecks(options.root, env), options);
}

export async function runChecks(environment: string, checks: readonly ResolvedCheck[], options: RunChecksOptions): Promise<CheckReport> {
  const started = performance.now();
  const results: CheckResult[] = new Array<CheckResult>(checks.length);
  const contracts = options.contracts ?? new ContractRegistry(options.root);
  const concurrency = options.access.sharedSession ? 1 : Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, checks.length || 1));
  const warnings = new Set<string>();
  // A refusal (no role may run check SQL) is the same for every connection: ask once, report it on every SQL check.
  let refusal: ChecksRoleError | undefined;
  let next = 0;

  const worker = async (): Promise<void> => {
    let connection: CheckConnection | undefined;
    const connect = async (): Promise<CheckConnection> => {
      if (refusal) throw refusal;
      if (connection) return connection;
      try {
        connection = await checkConnection(await options.access.connect(), options.access);
      } catch (error) {
        if (error instanceof ChecksRoleError) refusal = error;
        throw error;
      }
      connection.warnings.forEach((w) => warnings.add(w));
      return connection;
    };
    try {
      for (;;) {
        const index = next++;
        if (index >= checks.length) return;
        const { result, broken } = await runOne(checks[index], options, contracts, connect);
        results[index] = result;
        if ((broken || connection?.broken) && connection) {
          // A timed-out query may still be running on that connection: drop it, open a fresh one.
          const gone = connection;
          connection = undefined;
          if (!gone.broken) {
            // Marked first: the guard's own deadline, if it fires later, then leaves the restarted database alone.
            gone.broken = true;
            await options.access.interrupt().catch(cleanupFailed('interrupting a timed-out check'));
          }
          await gone.client.end().catch(cleanupFailed('closing the connection of a timed-out check'));
        }
      }
    } finally {
      await connection?.client.end().catch(cleanupFailed('closing the checks connection'));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return summarize(environment, results, performance.now() - started, [...warnings]);
}

async function runOne(
  check: ResolvedCheck,
  options: RunChecksOptions,
  contracts: ContractRegistry,
  connection: () => Promise<CheckConnection>,
): Promise<{ result: CheckResult; broken: boolean }> {
  const base = { name: check.name, kind: kindOf(check.spec), source: check.source };
  if (check.problem) return { result: { ...base, status: 'error', durationMs: 0, detail: check.problem }, broken: false };
  const live = { values: options.flags, ...(options.definitions ? { definitions: options.definitions } : {}) };
  const unmet = check.conditions.find((c) => !conditionHolds(c, live));
  if (unmet) {
    return { result: { ...base, status: 'skipped', durationMs: 0, detail: unmetDetail(unmet, live) }, broken: false };
  }
  const own = typeof check.spec.timeout === 'string' ? parseDuration(check.spec.timeout) : undefined;
  const timeoutMs = own ?? options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const ctx: KindContext = { connection, timeoutMs, processEnv: options.processEnv, contracts, flags: options.flags, maxViolations: options.maxViolations ?? DEFAULT_MAX_VIOLATIONS };
  let started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    // Opening the connection is not the check's time: its timeout and its duration start after.
    if (kindOf(check.spec) !== 'http' && kindOf(check.spec) !== 'invalid') await connection();
    started = performance.now();
    // The server enforces statement_timeout and the guard its own deadline; this is the last backstop (an HTTP body that never ends).
    const backstop = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs + 2_000);
    });
    const outcome = await Promise.race([runKind(check.spec, ctx), backstop]);
    const durationMs = performance.now() - started;
    if (outcome === 'timeout') {
      return { result: { ...base, status: 'error', durationMs, detail: `timed out after ${formatDuration(timeoutMs)}; raise its timeout or make it faster` }, broken: true };
    }
    return { result: { ...base, ...outcome, durationMs, source: check.source }, broken: false };
  } catch (thrown) {
    const durationMs = performance.now() - started;
    return { result: { ...base, status: 'error', durationMs, detail: describeError(thrown, timeoutMs), ...targetOf(check) }, broken: isConnectionError(thrown) };
  } finally {
    clearTimeout(timer);
  }
}

function describeError(thrown: unknown, timeoutMs: number): string {
  if (thrown instanceof RefusedQueryError) return `refused, nothing ran: ${thrown.message}`;
  if (thrown instanceof SideEffectError) return `side effect undone: ${thrown.message}`;
  if (thrown instanceof ChecksRoleError || thrown instanceof CheckTimeoutError) return thrown.message;
  if (thrown instanceof CheckConfigError) return thrown.message;
  const error = toError(thrown);
  const code = (thrown as { code?: string }).code;
  if (code === '57014') return `timed out after ${formatDuration(timeoutMs)} (statement_timeout); raise its timeout or make the query faster`;
  if (code === '25006') return `refused by the server: ${error.message} (checks run in READ ONLY transactions)`;
  if (code === '55P03') return `could not get a lock within ${formatDuration(timeoutMs)}: ${error.message}`;
  // Checks run as the checks role, which reads only the schemas it was given.
  const schema = code === '42501' ? /permission denied for schema "?([\w$]+)"?/.exec(error.message)?.[1] : undefined;
  if (schema) return `database error 42501: ${error.message}: checks run as the checks role, which reads only its schemas; add ${schema} to database.checks_role.schemas (docs/checks.md)`;
  return code ? `database error ${code}: ${error.message}` : error.message;
}

function isConnectionError(thrown: unknown): boolean {
  const message = toError(thrown).message;
  return /Connection terminated|ECONNRESET|not queryable|Client has encountered a connection error/i.test(message);
}

function targetOf(check: ResolvedCheck): Pick<CheckResult, 'query' | 'url'> {
  const spec = check.spec;
  if (typeof spec.sql === 'string') return { query: spec.sql };
  const nested = (spec.rows_satisfy ?? spec.explain) as { sql?: string } | undefined;
  if (nested?.sql) return { query: nested.sql };
  const http = spec.http as { method?: string; url?: string } | undefined;
  if (http?.url) return { url: `${http.method ?? 'GET'} ${http.url}` };
  return {};
}
