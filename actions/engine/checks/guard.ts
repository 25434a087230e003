/**
 * The read-only guard every check and monitor query goes through. Four layers, each
 * enough for most hostile SQL and together enough for all we know of:
 *
 * 1. The real Postgres parser (libpg-query): exactly ONE statement, and only
 *    SELECT / WITH / VALUES / TABLE / EXPLAIN / SHOW; no data-modifying CTE, no
 *    SELECT INTO, no FOR UPDATE/SHARE, no call to a function that acts outside the
 *    transaction (advisory locks, set_config, nextval, dblink, pg_notify, …).
 * 2. The extended protocol (a parameterised query), which the server refuses to run
 *    with more than one statement: `COMMIT; DROP TABLE` cannot escape.
 * 3. `BEGIN READ ONLY` with SET LOCAL statement_timeout, lock_timeout and
 *    idle_in_transaction_session_timeout, then ROLLBACK whatever happened: a user
 *    function that tries to write is refused by the server, a SET is undone.
 * 4. After the ROLLBACK, the session's advisory locks are compared with what the
 *    connection held before: a session-level lock taken indirectly (inside a user
 *    function) survives ROLLBACK, so rollout releases it and fails the check.
 */
import type pg from 'pg';
import { loadParser, rawParser } from '../migrate/statements.ts';

/** The query was refused before it reached the database. */
export class RefusedQueryError extends Error {
  override readonly name = 'RefusedQueryError';
}

/** The query ran but did something a check may not do (and rollout undid it). */
export class SideEffectError extends Error {
  override readonly name = 'SideEffectError';
}

const ALLOWED_STATEMENTS = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt']);
const WRITING_NODES: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

/** Functions whose effect is outside the transaction, or that run SQL text we cannot see. */
const FORBIDDEN_FUNCTIONS = new Set([
  'set_config', 'nextval', 'setval', 'pg_notify', 'txid_current', 'pg_current_xact_id',
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_promote',
  'pg_switch_wal', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup',
  'pg_import_system_collations', 'pg_log_backend_memory_contexts', 'pg_wal_replay_pause', 'pg_wal_replay_resume',
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema',
  'loread', 'lowrite',
]);
const FORBIDDEN_PREFIXES = [
  'pg_advisory_', 'pg_try_advisory_', 'dblink', 'lo_', 'pg_replication_', 'pg_create_', 'pg_drop_',
  'pg_stat_reset', 'pg_file_', 'pg_read_', 'pg_ls_', 'pg_logical_', 'pg_sequence_',
];

export function isForbiddenFunction(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_FUNCTIONS.has(lower) || FORBIDDEN_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/**
 * Refuse anything but one read-only statement. Throws RefusedQueryError with a
 * message that says what to change. Call `await loadParser()` once first.
 */
export function assertReadOnlyStatement(sql: string): void {
  let stmts: { stmt: Record<string, unknown> }[];
  try {
    stmts = (rawParser()(sql) as { stmts?: { stmt: Record<string, unknown> }[] }).stmts ?? [];
  } catch (error) {
    throw new RefusedQueryError(`syntax error: ${error instanceof Error ? error.message : String(error)}. Fix the SQL.`);
  }
  if (stmts.length === 0) throw new RefusedQueryError('the query is empty: write one SELECT.');
  if (stmts.length > 1) {
    throw new RefusedQueryError(`the query has ${stmts.length} statements; a check runs exactly one read-only statement (SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW). Split it into several checks.`);
  }
  const [type, node] = Object.entries(stmts[0].stmt)[0] ?? ['', {}];
  if (!ALLOWED_STATEMENTS.has(type)) {
    throw new RefusedQueryError(`${describeStatement(type)} is not allowed in a check: checks are read-only. Use one SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW.`);
  }
  if (type === 'ExplainStmt') {
    const inner = Object.keys(((node as { query?: Record<string, unknown> }).query) ?? {})[0] ?? '';
    if (inner !== 'SelectStmt') throw new RefusedQueryError(`EXPLAIN of ${describeStatement(inner)} is not allowed in a check: only EXPLAIN of a SELECT.`);
  }
  walk(node, (key, value) => {
    if (key in WRITING_NODES) throw new RefusedQueryError(`${WRITING_NODES[key]} is not allowed in a check (found inside the query, e.g. in a WITH): checks are read-only.`);
    if (key === 'SelectStmt' && isRecord(value)) {
      if (value.intoClause) throw new RefusedQueryError('SELECT … INTO creates a table and is not allowed in a check; remove INTO.');
      if (Array.isArray(value.lockingClause) && value.lockingClause.length > 0) {
        throw new RefusedQueryError('SELECT … FOR UPDATE/SHARE takes row locks and is not allowed in a check; remove the FOR clause.');
      }
    }
    if (key === 'FuncCall' && isRecord(value)) {
      const name = functionName(value.funcname);
      if (name && isForbiddenFunction(name)) {
        throw new RefusedQueryError(`function ${name}() is not allowed in a check: it acts outside the read-only transaction (locks, settings, sequences, notifications, files or other sessions).`);
      }
    }
  });
}

function functionName(funcname: unknown): string | undefined {
  if (!Array.isArray(funcname) || funcname.length === 0) return undefined;
  const last = funcname[funcname.length - 1] as { String?: { sval?: string; str?: string } };
  return last.String?.sval ?? last.String?.str;
}

function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (isRecord(node)) {
    for (const [key, value] of Object.entries(node)) {
      visit(key, value);
      walk(value, visit);
    }
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function describeStatement(type: string): string {
  const names: Record<string, string> = {
    InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE', CopyStmt: 'COPY', CallStmt: 'CALL', DoStmt: 'DO',
    VacuumStmt: 'VACUUM/ANALYZE', TransactionStmt: 'a transaction command (BEGIN/COMMIT/ROLLBACK)', PrepareStmt: 'PREPARE', ExecuteStmt: 'EXECUTE',
    ListenStmt: 'LISTEN', NotifyStmt: 'NOTIFY', UnlistenStmt: 'UNLISTEN', VariableSetStmt: 'SET/RESET', LockStmt: 'LOCK', TruncateStmt: 'TRUNCATE',
    DiscardStmt: 'DISCARD', DeallocateStmt: 'DEALLOCATE', DeclareCursorStmt: 'DECLARE CURSOR', FetchStmt: 'FETCH', ClosePortalStmt: 'CLOSE',
  };
  if (names[type]) return names[type];
  if (/^(Create|Alter|Drop|Rename|Comment|Grant|Index|Define|Rule|View|Refresh|Reindex|Cluster)/.test(type)) return `DDL (${type.replace(/Stmt$/, '')})`;
  return type.replace(/Stmt$/, '') || 'this statement';
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

/** A connection used for checks, with the advisory locks it held before any check ran. */
export interface CheckConnection {
  client: pg.Client;
  baselineLocks: Set<string>;
}

const HELD_LOCKS_SQL = `SELECT classid::text || ':' || objid::text || ':' || objsubid::text || ':' || mode AS key
  FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()`;

/** Prepare a client for checks: remember which advisory locks are legitimately held (the embedded database shares one session). */
export async function checkConnection(client: pg.Client): Promise<CheckConnection> {
  await loadParser();
  const { rows } = await client.query<{ key: string }>(HELD_LOCKS_SQL);
  return { client, baselineLocks: new Set(rows.map((r) => r.key)) };
}

const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;

/** Run one query in a read-only transaction with timeouts, then ROLLBACK and undo session-level side effects. */
export async function runReadOnly<R extends Record<string, unknown>>(
  connection: CheckConnection,
  query: ReadOnlyQuery,
  timeoutMs: number,
): Promise<ReadOnlyResult<R>> {
  if (!query.trusted) assertReadOnlyStatement(query.text);
  const { client } = connection;
  const ms = Math.max(1, Math.round(timeoutMs));
  const sets = [`SET LOCAL statement_timeout = ${ms}`, `SET LOCAL lock_timeout = ${ms}`, `SET LOCAL idle_in_transaction_session_timeout = ${ms + 1_000}`];
  for (const [name, value] of Object.entries(query.settings ?? {})) {
    if (!SETTING_NAME.test(name) || !/^[A-Za-z0-9_.]+$/.test(value)) throw new RefusedQueryError(`invalid setting ${name}=${value}`);
    sets.push(`SET LOCAL ${name} = ${value}`);
  }
  // Our own fixed text: one round trip for BEGIN and every SET LOCAL (simple protocol).
  await client.query(`BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; ${sets.join('; ')}`);
  let result: pg.QueryResult<R> | undefined;
  let failure: unknown;
  const started = performance.now();
  try {
    // values: [] forces the extended protocol, which refuses more than one statement.
    result = await client.query<R>({ text: query.text, values: query.values ?? [] });
  } catch (error) {
    failure = error;
  }
  const durationMs = performance.now() - started;
  try {
    await undoSideEffects(connection);
  } catch (error) {
    // The query's own error says more; a side effect is still undone above before this throws.
    if (failure === undefined || error instanceof SideEffectError) throw error;
  }
  if (failure !== undefined || !result) throw failure;
  return { rows: result.rows, fields: result.fields.map((f) => f.name), durationMs };
}

async function undoSideEffects(connection: CheckConnection): Promise<void> {
  const { client, baselineLocks } = connection;
  const results = (await client.query(`ROLLBACK; ${HELD_LOCKS_SQL}`)) as unknown as pg.QueryResult<{ key: string }>[];
  const held = results[1]?.rows.map((r) => r.key) ?? [];
  const extra = held.filter((key) => !baselineLocks.has(key));
  if (extra.length === 0) return;
  for (const key of extra) await releaseAdvisoryLock(client, key);
  throw new SideEffectError(
    `the query took ${extra.length} session-level advisory lock(s) (through a function it called); they survive ROLLBACK, so rollout released them. A check must not take locks.`,
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
