/**
 * What a migration file contains, from the real Postgres parser (libpg-query): its
 * statements with their offsets, whether any cannot run inside a transaction block, and
 * whether the file manages its own transactions (BEGIN/COMMIT).
 */
import { loadModule, parseSync } from 'libpg-query';
import type { Problem } from '../problems.ts';
import { byteToCharOffset, lineColumnAt } from './position.ts';

export interface Statement {
  /** The statement's text, as written (leading comments included). */
  sql: string;
  /** 0-based character offset of `sql` in the file. */
  start: number;
}

export interface ParsedSql {
  statements: Statement[];
  /** Why the file cannot run in one transaction, e.g. "CREATE INDEX CONCURRENTLY at line 4". */
  nonTransactional: string[];
  /** The file has its own BEGIN/START TRANSACTION/COMMIT/ROLLBACK. */
  managesTransactions: boolean;
}

interface RawStatement {
  stmt: Record<string, Record<string, unknown>>;
  stmt_location?: number;
  stmt_len?: number;
}

let ready: Promise<void> | undefined;
/** The parser is WASM: load it once per process. */
export const loadParser = (): Promise<void> => (ready ??= loadModule());

/**
 * Parse a file. `serverVersion` is server_version_num: ALTER TYPE … ADD VALUE became
 * transactional in Postgres 12. Requires `await loadParser()` first.
 */
export function parseSql(path: string, sql: string, serverVersion: number): { parsed?: ParsedSql; problems: Problem[] } {
  let stmts: RawStatement[];
  const bytes = Buffer.from(sql, 'utf8');
  try {
    stmts = (parseSync(sql) as { stmts?: RawStatement[] }).stmts ?? [];
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const at = lineColumnAt(sql, byteToCharOffset(bytes, details?.cursorPosition ?? 0));
    const message = error instanceof Error ? error.message : String(error);
    return { problems: [{ file: path, ...at, severity: 'error', message: `Syntax error: ${message}. Fix the SQL; nothing was run.` }] };
  }
  const statements: Statement[] = [];
  const nonTransactional: string[] = [];
  let managesTransactions = false;
  for (const raw of stmts) {
    const byteStart = raw.stmt_location ?? 0;
    const byteEnd = raw.stmt_len ? byteStart + raw.stmt_len : bytes.length;
    const start = byteToCharOffset(bytes, byteStart);
    const text = bytes.subarray(byteStart, byteEnd).toString('utf8');
    statements.push({ sql: text, start });
    const [type, node] = Object.entries(raw.stmt)[0] ?? ['', {}];
    const reason = nonTransactionalReason(type, node, serverVersion);
    if (reason) nonTransactional.push(`${reason} at line ${lineColumnAt(sql, firstCodeOffset(sql, start)).line}`);
    if (type === 'TransactionStmt') managesTransactions = true;
  }
  return { parsed: { statements, nonTransactional, managesTransactions }, problems: [] };
}

/** Statements Postgres refuses inside a transaction block (PreventInTransactionBlock callers). */
function nonTransactionalReason(type: string, node: Record<string, unknown>, serverVersion: number): string | undefined {
  switch (type) {
    case 'IndexStmt':
      return node.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return node.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt': {
      const params = (node.params as { DefElem?: { defname?: string } }[] | undefined) ?? [];
      if (params.some((p) => p.DefElem?.defname === 'concurrently')) return 'REINDEX CONCURRENTLY';
      return node.kind === 'REINDEX_OBJECT_SYSTEM' || node.kind === 'REINDEX_OBJECT_DATABASE' ? 'REINDEX SYSTEM/DATABASE' : undefined;
    }
    case 'VacuumStmt':
      return node.is_vacuumcmd ? 'VACUUM' : undefined; // ANALYZE alone may run in a transaction.
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'CreateSubscriptionStmt':
      return 'CREATE SUBSCRIPTION';
    case 'DropSubscriptionStmt':
      return 'DROP SUBSCRIPTION';
    case 'AlterEnumStmt':
      return node.newVal !== undefined && serverVersion < 120_000 ? 'ALTER TYPE … ADD VALUE (before Postgres 12)' : undefined;
    case 'DiscardStmt':
      return node.target === 'DISCARD_ALL' ? 'DISCARD ALL' : undefined;
    default:
      return undefined;
  }
}

/** Skip whitespace and comments before a statement, so that reported lines point at code. */
export function firstCodeOffset(sql: string, start: number): number {
  let i = start;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i])) i += 1;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      if (end === -1) return i;
      i = end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) return i;
      i = end + 2;
    } else {
      return i;
    }
  }
}
