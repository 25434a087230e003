/**
 * The read-only guard every check and monitor query goes through. Its layers, each enough
 * for most hostile SQL and together enough for all we know of:
 *
 * 1. The real Postgres parser (statement-guard.ts): exactly ONE statement, and only
 *    SELECT / WITH / VALUES / TABLE / EXPLAIN / SHOW; no data-modifying CTE, no SELECT
 *    INTO, no FOR UPDATE/SHARE, no call to a function on the deny list (deny-list.ts: a
 *    fixed list plus what the database's catalog withholds from PUBLIC).
 * 2. The extended protocol (extendedProtocol below), which the server refuses to run
 *    with more than one statement: `COMMIT; DROP TABLE` cannot escape.
 * 3. `BEGIN READ ONLY` with SET LOCAL statement_timeout, lock_timeout and
 *    idle_in_transaction_session_timeout, then `SET LOCAL ROLE` to the checks role
 *    (checks-role.ts), then ROLLBACK whatever happened: a function or view that already
 *    exists in the database runs with no power to write, signal other backends, run
 *    programs or read server files.
 * 4. A deadline of our own, the timeout plus a grace: past it the connection is dropped,
 *    and the embedded database, which cannot interrupt a statement, is restarted.
 * 5. After the ROLLBACK, what survives a transaction is looked for (session advisory
 *    locks, prepared statements) and undone — on a connection of its own by DISCARD ALL,
 *    so nothing a check left reaches the next one — and the check fails if there was any.
 */
import type pg from 'pg';
import type { Environment } from '../config/model.ts';
import { formatDuration } from '../config/duration.ts';
import type { Database } from '../db/database.ts';
import { loadParser } from '../migrate/statements.ts';
import { checksRoleOf, POWERFUL_ROLES, ROLE_POWERS_SQL, type RolePowers } from './checks-role.ts';
import { privilegedFunctions } from './deny-list.ts';
import { assertReadOnlyStatement, RefusedQueryError } from './statement-guard.ts';
import type { ParsedTexts } from './parse-memo.ts';
import { cleanupFailed } from '../cleanup.ts';

export { assertReadOnlyStatement, RefusedQueryError } from './statement-guard.ts';
export { isForbiddenFunction } from './deny-list.ts';

/** The query ran but did something a check may not do (and rollout undid it). */
export class SideEffectError extends Error {
  override readonly name = 'SideEffectError';
}

/** No role at hand may run check SQL: nothing ran. */
export class ChecksRoleError extends Error {
  override readonly name = 'ChecksRoleError';
}

/** The query outlived its timeout and the database did not stop it (our deadline did). */
export class CheckTimeoutError extends Error {
  override readonly name = 'CheckTimeoutError';
}

/** How long after its timeout a statement may still answer before the deadline ends it. */
export const DEADLINE_GRACE_MS = 500;

/** How checks reach an environment's database. */
export interface CheckAccess {
  /** A new connection; the caller ends it. `pipeline`: queries are written without waiting for the answers before them (read-only-batch.ts). */
  connect(options?: { pipeline?: boolean }): Promise<pg.Client>;
  /** The checks role (database.checks_role.name). */
  role: string;
  /**
   * Every connection shares one session (the embedded database): clean up exactly what a
   * check left, never DISCARD ALL (it would drop the apply's lock), and run one check at a time.
   */
  sharedSession: boolean;
  /** Stop a statement past its deadline (Database.interrupt). */
  interrupt(): Promise<void>;
  /**
   * What the first connection found out (the role to run as, the catalog's deny list): the
   * same for every connection of a run, so a connection opened after a restart starts at once.
   */
  setup?: Promise<CheckSetup>;
  /** The parse trees of the queries the run sends, read ahead (parse-memo.ts): with a tree for each, the parser is never loaded. */
  parsed?: ParsedTexts;
}

export interface CheckSetup {
  runAs: string | null;
  denied: ReadonlySet<string>;
  warnings: string[];
}

export function checkAccess(env: Environment, db: Database): CheckAccess {
  return { connect: (options) => db.connect(options), role: checksRoleOf(env).name, sharedSession: db.kind === 'embedded', interrupt: () => db.interrupt() };
}

/** A connection prepared for checks. */
export interface CheckConnection {
  client: pg.Client;
  access: CheckAccess;
  /** The role each transaction switches to; null when the login role itself has no power to act. */
  runAs: string | null;
  /** What the session held before any check ran (a shared session holds the apply's lock). */
  baselineLocks: Set<string>;
  baselinePrepared: Set<string>;
  /** Function names the catalog withholds from PUBLIC: refused by the parser too. */
  denied: ReadonlySet<string>;
  /** Said once per run: what the role could still do that rollout cannot take away. */
  warnings: string[];
  /** True once a deadline passed: the connection is gone and the runner opens a new one. */
  broken: boolean;
}

const SESSION_STATE_SQL = `SELECT
  array(SELECT classid::text || ':' || objid::text || ':' || objsubid::text || ':' || mode
          FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()) AS locks,
  array(SELECT name FROM pg_prepared_statements WHERE from_sql) AS prepared`;

const IDENTITY_SQL = `SELECT session_user::text AS login,
  to_regrole($1) IS NOT NULL AS role_exists,
  coalesce(pg_has_role(session_user, to_regrole($1),
                       CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END), false) AS can_switch`;

/**
 * Prepare a client for checks: choose the role they run as (or refuse), read the catalog's
 * privileged functions, and remember what the session legitimately holds. Ends the client
 * when it refuses.
 */
export async function checkConnection(client: pg.Client, access: CheckAccess): Promise<CheckConnection> {
  try {
    // Without the trees at hand, the parser must load: if it cannot, the run says why before any query.
    if (!access.parsed) await loadParser();
    const setup = await (access.setup ??= readSetup(client, access));
    const { rows: [state] } = await client.query<{ locks: string[]; prepared: string[] }>(SESSION_STATE_SQL);
    return {
      client,
      access,
      ...setup,
      baselineLocks: new Set(state.locks),
      baselinePrepared: new Set(state.prepared),
      broken: false,
    };
  } catch (error) {
    await client.end().catch(cleanupFailed('closing the checks connection after a failed setup'));
    throw error;
  }
}

async function readSetup(client: pg.Client, access: CheckAccess): Promise<CheckSetup> {
  const { rows: [identity] } = await client.query<{ login: string; role_exists: boolean; can_switch: boolean }>(IDENTITY_SQL, [access.role]);
  const { rows: powers } = await client.query<RolePowers>(ROLE_POWERS_SQL, [[identity.login, access.role], POWERFUL_ROLES]);
  const choice = chooseRole({
    login: identity.login,
    role: access.role,
    roleExists: identity.role_exists,
    canSwitch: identity.can_switch,
    powersOf: (name) => powers.find((p) => p.role === name),
  });
  return { ...choice, denied: await privilegedFunctions(client) };
}

export interface RoleFacts {
  login: string;
  role: string;
  roleExists: boolean;
  canSwitch: boolean;
  powersOf(role: string): RolePowers | undefined;
}

/**
 * Which role check SQL runs as: the checks role when the login role can switch to it and it
 * has no power; else the login role itself when it has none (a read-only URL's role); else
 * nobody. Pure, so that every case is tested without a database.
 */
export function chooseRole(facts: RoleFacts): { runAs: string | null; warnings: string[] } {
  const { login, role } = facts;
  const audit = (name: string) => facts.powersOf(name) ?? { role: name, powers: [], dblink: [] };
  const dblinkWarning = (p: RolePowers): string[] =>
    p.dblink.length === 0
      ? []
      : [
          `role ${p.role} can execute ${p.dblink.slice(0, 3).join(', ')}${p.dblink.length > 3 ? ', …' : ''} (through PUBLIC unless someone granted it): a view that calls dblink with a stored password can write elsewhere. ` +
            `Run REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA <dblink's schema> FROM PUBLIC and grant it to the roles that need it (docs/checks.md).`,
        ];
  if (facts.roleExists && facts.canSwitch) {
    const powers = audit(role);
    if (powers.powers.length > 0) {
      throw new ChecksRoleError(
        `refusing to run check SQL: the checks role ${role} ${powers.powers.join(', ')}; it must have no power beyond SELECT. ` +
          `Run rollout apply (which strips those powers from a role it manages), or fix the role by hand if database.checks_role.manage is false.`,
      );
    }
    return { runAs: role, warnings: dblinkWarning(powers) };
  }
  const own = audit(login);
  if (own.powers.length === 0) return { runAs: null, warnings: dblinkWarning(own) };
  const why = facts.roleExists ? `${login} is not a member of ${role}` : `the role ${role} does not exist`;
  throw new ChecksRoleError(
    `refusing to run check SQL as ${login}, which ${own.powers.join(', ')}: it cannot switch to the checks role (${why}). ` +
      `Run rollout apply on this environment (it creates ${role} and lets the role that applies switch to it), ` +
      `or connect checks through database.readonly_url_env as a role without those powers (docs/checks.md, "The checks role").`,
  );
}

export interface ReadOnlyQuery {
  text: string;
  values?: unknown[];
  /** Our own catalog queries skip the parser; user SQL never does. */
  trusted?: boolean;
  /** Extra SET LOCAL settings for this query only (e.g. enable_seqscan = off for EXPLAIN checks). */
  settings?: Record<string, string>;
}

export interface ReadOnlyResult<R> {
  rows: R[];
  fields: string[];
  /** Time the statement itself took, without BEGIN/ROLLBACK. */
  durationMs: number;
}

/**
 * A query pg must send with the extended protocol (Parse/Bind/Execute), in which the server
 * refuses more than one statement: `COMMIT; DELETE …` fails whole, nothing of it runs. Without
 * `queryMode: 'extended'` pg (8.23) sends a query without values — an empty array too — with
 * the simple protocol, which runs every statement of the text. @types/pg does not declare
 * the option, hence the wider type. The only way user SQL reaches a connection.
 */
export function extendedProtocol(text: string, values: readonly unknown[] = []): pg.QueryConfig & { queryMode: 'extended' } {
  return { text, values: [...values], queryMode: 'extended' };
}

const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
const TIMED_OUT = Symbol('timed out');

/** Run one query in a read-only transaction with timeouts, as the checks role, then ROLLBACK and undo session-level side effects. */
export async function runReadOnly<R extends Record<string, unknown>>(
  connection: CheckConnection,
  query: ReadOnlyQuery,
  timeoutMs: number,
): Promise<ReadOnlyResult<R>> {
  if (!query.trusted) {
    const parsed = connection.access.parsed?.get(query.text);
    if (!parsed) await loadParser();
    assertReadOnlyStatement(query.text, connection.denied, parsed);
  }
  const { client } = connection;
  const ms = Math.max(1, Math.round(timeoutMs));
  const sets = [`SET LOCAL statement_timeout = ${ms}`, `SET LOCAL lock_timeout = ${ms}`, `SET LOCAL idle_in_transaction_session_timeout = ${ms + 1_000}`];
  for (const [name, value] of Object.entries(query.settings ?? {})) {
    if (!SETTING_NAME.test(name) || !/^[A-Za-z0-9_.]+$/.test(value)) throw new RefusedQueryError(`invalid setting ${name}=${value}`);
    sets.push(`SET LOCAL ${name} = ${value}`);
  }
  // Last: settings above may need the login role's rights; the query runs with the checks role's only.
  if (connection.runAs) sets.push(`SET LOCAL ROLE ${connection.runAs}`);
  // Our own fixed text: one round trip for BEGIN and every SET LOCAL (simple protocol).
  await client.query(`BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; ${sets.join('; ')}`);
  let result: pg.QueryResult<R> | undefined;
  let failure: unknown;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), ms + DEADLINE_GRACE_MS);
    });
    const outcome = await Promise.race([client.query<R>(extendedProtocol(query.text, query.values)), deadline]);
    if (outcome === TIMED_OUT) {
      await abandon(connection);
      throw new CheckTimeoutError(
        `timed out after ${formatDuration(timeoutMs)} and was stopped (${connection.access.sharedSession ? 'the embedded database cannot interrupt a statement, so it was restarted' : 'the connection was dropped'}); raise its timeout or make the query faster`,
      );
    }
    result = outcome;
  } catch (error) {
    if (error instanceof CheckTimeoutError) throw error;
    failure = error;
  } finally {
    clearTimeout(timer);
  }
  const durationMs = performance.now() - started;
  try {
    await settle(connection);
  } catch (error) {
    // The query's own error says more; a side effect is still undone before this throws.
    if (failure === undefined || error instanceof SideEffectError) throw error;
  }
  if (failure !== undefined || !result) throw failure;
  return { rows: result.rows, fields: result.fields.map((f) => f.name), durationMs };
}

/** A statement past its deadline: stop it and give up the connection (once: the runner may have given it up already). */
export async function abandon(connection: CheckConnection): Promise<void> {
  if (connection.broken) return;
  connection.broken = true;
  await connection.access.interrupt().catch(cleanupFailed('interrupting a check past its deadline'));
  // A pipelined client's end() waits for every query already sent, the hung one too: cut the socket instead.
  if (connection.client.pipeline) connection.client.connection.stream.destroy();
  else await connection.client.end().catch(cleanupFailed('closing the connection of a check past its deadline'));
}

/** ROLLBACK, then find and undo what survives a transaction; throws SideEffectError if there was anything. */
export async function settle(connection: CheckConnection): Promise<void> {
  const { client, baselineLocks, baselinePrepared } = connection;
  const results = (await client.query(`ROLLBACK; ${SESSION_STATE_SQL}`)) as unknown as pg.QueryResult<{ locks: string[]; prepared: string[] }>[];
  const state = results[1]?.rows[0] ?? { locks: [], prepared: [] };
  const locks = state.locks.filter((key) => !baselineLocks.has(key));
  const prepared = state.prepared.filter((name) => !baselinePrepared.has(name));
  if (!connection.access.sharedSession) {
    // A session of its own: start every check from a clean one, whatever was left (settings, plans, temp objects).
    await client.query('DISCARD ALL');
  } else {
    for (const key of locks) await releaseAdvisoryLock(client, key);
    for (const name of prepared) await client.query(`DEALLOCATE "${name.replace(/"/g, '""')}"`);
  }
  const found = [
    ...(locks.length ? [`took ${locks.length} session-level advisory lock(s)`] : []),
    ...(prepared.length ? [`left ${prepared.length} prepared statement(s) (${prepared.join(', ')})`] : []),
  ];
  if (found.length === 0) return;
  throw new SideEffectError(
    `the query ${found.join(' and ')} through a function it called; they survive ROLLBACK, so rollout removed them. A check must not change its session.`,
  );
}

/** Release every hold of one advisory lock (session locks are re-entrant, so loop until it is gone). */
async function releaseAdvisoryLock(client: pg.Client, key: string): Promise<void> {
  const [classid, objid, objsubid, mode] = key.split(':');
  const shared = mode === 'ShareLock' ? '_shared' : '';
  const call =
    objsubid === '1'
      ? { text: `SELECT pg_advisory_unlock${shared}((($1::bigint << 32) | $2::bigint)) AS released`, values: [classid, objid] }
      : { text: `SELECT pg_advisory_unlock${shared}($1::int, $2::int) AS released`, values: [int32(classid), int32(objid)] };
  for (let i = 0; i < 10_000; i += 1) {
    const { rows } = await client.query<{ released: boolean }>(call);
    if (!rows[0]?.released) return;
  }
}

const int32 = (text: string): number => Number(BigInt.asIntN(32, BigInt(text)));
