/**
 * The first layer of the read-only guard: the real Postgres parser (libpg-query) decides
 * whether a check's text is ONE read-only statement before anything is sent. See guard.ts
 * for the layers that hold when the parser cannot see (views, functions).
 */
import { rawParser } from '../migrate/statements.ts';
import { isForbiddenFunction } from './deny-list.ts';
import type { ParseTree } from './parse-memo.ts';

/** The query was refused before it reached the database. */
export class RefusedQueryError extends Error {
  override readonly name = 'RefusedQueryError';
}

const ALLOWED_STATEMENTS = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt']);
const WRITING_NODES: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

/**
 * Refuse anything but one read-only statement. Throws RefusedQueryError with a message
 * that says what to change. Call `await loadParser()` once first, unless `parsed` is the
 * text's tree already (parse-memo.ts). `denied`: function names the database's catalog
 * withholds from PUBLIC (deny-list.ts), on top of the fixed list.
 */
export function assertReadOnlyStatement(sql: string, denied?: ReadonlySet<string>, parsed?: ParseTree): void {
  let stmts: { stmt: Record<string, unknown> }[];
  try {
    stmts = (parsed ?? (rawParser()(sql) as ParseTree)).stmts ?? [];
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
    // EXPLAIN ANALYZE executes its statement: only a SELECT, whose own tree is walked below like any other.
    const explain = node as { query?: Record<string, unknown>; options?: { DefElem?: { defname?: string } }[] };
    const inner = Object.keys(explain.query ?? {})[0] ?? '';
    const analyze = (explain.options ?? []).some((o) => o.DefElem?.defname === 'analyze');
    if (inner !== 'SelectStmt') {
      throw new RefusedQueryError(
        analyze
          ? `EXPLAIN ANALYZE of ${describeStatement(inner)} is not allowed in a check: EXPLAIN ANALYZE runs its statement; only EXPLAIN (ANALYZE) of a SELECT.`
          : `EXPLAIN of ${describeStatement(inner)} is not allowed in a check: only EXPLAIN of a SELECT.`,
      );
    }
  }
  // From the statement's wrapper, so that the top-level SELECT's own INTO and FOR UPDATE are seen too.
  walk(stmts[0].stmt, (key, value) => {
    if (key in WRITING_NODES) throw new RefusedQueryError(`${WRITING_NODES[key]} is not allowed in a check (found inside the query, e.g. in a WITH): checks are read-only.`);
    if (key === 'SelectStmt' && isRecord(value)) {
      if (value.intoClause) throw new RefusedQueryError('SELECT … INTO creates a table and is not allowed in a check; remove INTO.');
      if (Array.isArray(value.lockingClause) && value.lockingClause.length > 0) {
        throw new RefusedQueryError('SELECT … FOR UPDATE/SHARE takes row locks and is not allowed in a check; remove the FOR clause.');
      }
    }
    if (key === 'FuncCall' && isRecord(value)) {
      const name = functionName(value.funcname);
      if (name && isForbiddenFunction(name, denied)) {
        throw new RefusedQueryError(
          `function ${name}() is not allowed in a check: it acts outside the read-only transaction or reads what a check may not (locks, settings, sequences, notifications, server files, other sessions).`,
        );
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
