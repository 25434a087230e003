/**
 * Classify a file from the pre-scan's statements, without the parser, for the two shapes real
 * histories have most: hand-written CREATE/DROP INDEX CONCURRENTLY files (often several
 * statements) and files with their own BEGIN … COMMIT. Loading the parser costs 0.1–0.3 s
 * (more on a busy machine), which on a small history is a good part of the run.
 *
 * It answers only when the lexical reading is certain, and leaves everything else to the
 * parser (undefined): any other keyword the pre-scan flags (VACUUM, REINDEX, EXTENSION, …),
 * BEGIN ATOMIC (semicolons inside one statement), a CONCURRENTLY anywhere but in
 * `CREATE [UNIQUE] INDEX CONCURRENTLY` or `DROP INDEX CONCURRENTLY`, and transaction
 * statements beyond plain BEGIN/START TRANSACTION/COMMIT/END/ROLLBACK/ABORT. A test checks
 * that every answer equals the parser's on the benchmark histories and on random inputs.
 */
import { prescanSql, type LexicalStatement } from './prescan.ts';
import type { ParsedSql } from './statements.ts';
import { lineColumnAt } from './position.ts';

const ALLOWED = new Set(['CONCURRENTLY', 'BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT']);
const WORK = new Set(['WORK', 'TRANSACTION']);

export function classifyLexically(sql: string): ParsedSql | undefined {
  const scan = prescanSql(sql, { statements: true });
  if (!scan.statements || scan.atomic || scan.parserNeeded.some((word) => !ALLOWED.has(word))) return undefined;
  const nonTransactional: string[] = [];
  let managesTransactions = false;
  let open = false;
  let finalCommitAt: number | undefined;
  for (const statement of scan.statements) {
    const kind = transactionKind(statement);
    if (kind === 'unknown') return undefined;
    finalCommitAt = undefined;
    if (kind === 'begin') {
      managesTransactions = true;
      open = true;
    } else if (kind === 'commit' || kind === 'rollback') {
      managesTransactions = true;
      if (kind === 'commit' && open) finalCommitAt = statement.codeStart;
      open = false;
    } else if (statement.concurrently) {
      const reason = concurrentlyReason(statement.words);
      if (!reason) return undefined;
      nonTransactional.push(`${reason} at line ${lineColumnAt(sql, statement.codeStart).line}`);
    }
  }
  return {
    statements: scan.statements.map((s) => ({ sql: textOf(sql, s), start: s.codeStart })),
    nonTransactional,
    managesTransactions,
    extensions: [],
    ...(finalCommitAt !== undefined ? { finalCommitAt } : {}),
  };
}

/** The statement's text as the parser gives it: from its first token up to, not including, its semicolon. */
const textOf = (sql: string, s: LexicalStatement): string => sql.slice(s.codeStart, s.terminated ? s.end - 1 : s.end);

function transactionKind(statement: LexicalStatement): 'begin' | 'commit' | 'rollback' | 'other' | 'unknown' {
  const [first, second, ...rest] = statement.words;
  const plain = (second === undefined || WORK.has(second)) && rest.length === 0;
  switch (first) {
    case 'BEGIN':
      return plain ? 'begin' : 'unknown';
    case 'START':
      return second === 'TRANSACTION' && rest.length === 0 ? 'begin' : 'unknown';
    case 'COMMIT':
    case 'END':
      return plain ? 'commit' : 'unknown';
    case 'ROLLBACK':
    case 'ABORT':
      return plain ? 'rollback' : 'unknown';
    default:
      return 'other';
  }
}

function concurrentlyReason(words: readonly string[]): string | undefined {
  const [a, b, c, d] = words;
  if (a === 'CREATE' && b === 'INDEX' && c === 'CONCURRENTLY') return 'CREATE INDEX CONCURRENTLY';
  if (a === 'CREATE' && b === 'UNIQUE' && c === 'INDEX' && d === 'CONCURRENTLY') return 'CREATE INDEX CONCURRENTLY';
  if (a === 'DROP' && b === 'INDEX' && c === 'CONCURRENTLY') return 'DROP INDEX CONCURRENTLY';
  return undefined;
}
