/**
 * What a migration file contains, from the real Postgres parser (libpg-query): its
 * statements with their offsets, whether any cannot run inside a transaction block, and
 * whether the file manages its own transactions (BEGIN/COMMIT).
 */
import { onBaselineCompiler } from '../wasm-tiering.ts';
import type { Problem } from '../problems.ts';
import { byteToCharOffset, codePointToCharOffset, lineColumnAt } from './position.ts';
import type { CreatedExtension } from './extensions.ts';

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
  /** Its CREATE EXTENSION statements. */
  extensions: CreatedExtension[];
  /**
   * When the file's last statement is a COMMIT that ends a transaction the file opened
   * (… BEGIN; …; COMMIT;), the character offset where that statement starts: the history
   * row can be written just before it, in the file's own last transaction.
   */
  finalCommitAt?: number;
}

interface RawStatement {
  stmt: Record<string, Record<string, unknown>>;
  stmt_location?: number;
  stmt_len?: number;
}

type ParseSync = (sql: string) => unknown;
let ready: Promise<void> | undefined;
let parseSync: ParseSync | undefined;
/**
 * The parser is WASM (~0.1–0.3 s to import and instantiate): load it once per process, and
 * only when a file needs it — an apply whose files pass the pre-scan never loads it.
 */
export const loadParser = (): Promise<void> =>
  (ready ??= import('libpg-query').then(async (module) => {
    await onBaselineCompiler(() => module.loadModule());
    parseSync = module.parseSync;
  }));

/*
 * The parser compiles with V8's baseline WebAssembly compiler (Liftoff) only
 * (onBaselineCompiler, ../wasm-tiering.ts). By default V8 also recompiles its hot functions
 * with the optimising compiler on background threads, and the process waits for those jobs
 * before it exits: `rollout health` parsing 200 monitor queries spent ~0.25 s of CPU there,
 * more than the rest of its run, for code that parses a statement in microseconds on either tier.
 */

/** libpg-query's parseSync, once loadParser() has resolved (it is never imported statically: see above). */
export function rawParser(): ParseSync {
  if (!parseSync) throw new Error('the SQL parser was used before loadParser() resolved');
  return parseSync;
}

/**
 * Parse a file. `serverVersion` is server_version_num: ALTER TYPE … ADD VALUE became
 * transactional in Postgres 12. Requires `await loadParser()` first.
 */
export function parseSql(path: string, sql: string, serverVersion: number): { parsed?: ParsedSql; problems: Problem[] } {
  if (!parseSync) throw new Error('parseSql called before loadParser() resolved');
  let stmts: RawStatement[];
  const bytes = Buffer.from(sql, 'utf8');
  try {
    stmts = (parseSync(sql) as { stmts?: RawStatement[] }).stmts ?? [];
  } catch (error) {
    // Unlike stmt_location (bytes), the error cursor counts characters (Postgres's cursorpos, made 0-based by libpg-query).
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const at = lineColumnAt(sql, codePointToCharOffset(sql, details?.cursorPosition ?? 0));
    const message = error instanceof Error ? error.message : String(error);
    return { problems: [{ file: path, ...at, severity: 'error', message: `Syntax error: ${message}. Fix the SQL; nothing was run.` }] };
  }
  const statements: Statement[] = [];
  const nonTransactional: string[] = [];
  const extensions: CreatedExtension[] = [];
  let managesTransactions = false;
  let open = false;
  let finalCommitAt: number | undefined;
  // Byte and character offsets coincide in ASCII text: skip the conversion (it is O(n) per statement).
  const ascii = bytes.length === sql.length;
  for (const raw of stmts) {
    const byteStart = raw.stmt_location ?? 0;
    const byteEnd = raw.stmt_len ? byteStart + raw.stmt_len : bytes.length;
    const start = ascii ? byteStart : byteToCharOffset(bytes, byteStart);
    const text = ascii ? sql.slice(byteStart, byteEnd) : bytes.subarray(byteStart, byteEnd).toString('utf8');
    statements.push({ sql: text, start });
    const [type, node] = Object.entries(raw.stmt)[0] ?? ['', {}];
    const reason = nonTransactionalReason(type, node, serverVersion);
    if (reason) nonTransactional.push(`${reason} at line ${lineColumnAt(sql, firstCodeOffset(sql, start)).line}`);
    if (type === 'CreateExtensionStmt' && typeof node.extname === 'string') extensions.push({ name: node.extname, offset: firstCodeOffset(sql, start) });
    finalCommitAt = undefined;
    if (type === 'TransactionStmt') {
      managesTransactions = true;
      const kind = node.kind;
      if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') open = true;
      else if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK' || kind === 'TRANS_STMT_PREPARE') {
        if (kind === 'TRANS_STMT_COMMIT' && open && !node.chain) finalCommitAt = start;
        open = Boolean(node.chain) && kind !== 'TRANS_STMT_PREPARE';
      }
    }
  }
  return { parsed: { statements, nonTransactional, managesTransactions, extensions, ...(finalCommitAt !== undefined ? { finalCommitAt } : {}) }, problems: [] };
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
      // RENAME VALUE (oldVal set) always ran in a transaction; only ADD VALUE was refused before 12.
      return node.newVal !== undefined && node.oldVal === undefined && serverVersion < 120_000 ? 'ALTER TYPE … ADD VALUE (before Postgres 12)' : undefined;
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
