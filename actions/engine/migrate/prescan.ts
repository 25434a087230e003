/**
 * A cheap lexical pre-scan that decides whether a file needs the real parser before it
 * can be classified. It follows Postgres's lexer (scan.l) for everything that can hide a
 * keyword: -- and nested /* comments, '…' strings (with '' and, for E'…', backslash
 * escapes), B/X/N/U& prefixed strings, "quoted identifiers", $tag$ dollar quotes, and
 * identifiers (which may contain $). It then looks for the keywords without which no
 * statement can be non-transactional or control transactions:
 *
 *   anywhere:               CONCURRENTLY VACUUM REINDEX SYSTEM DATABASE TABLESPACE SUBSCRIPTION DISCARD
 *                           EXTENSION (not for the transaction: the parser names the extensions a file
 *                           creates, which the embedded database must be able to provide)
 *   first word of a statement: BEGIN START COMMIT END ROLLBACK ABORT SAVEPOINT RELEASE PREPARE
 *
 * Every case statements.ts's nonTransactionalReason() or TransactionStmt recognises needs
 * one of these words as a keyword token, so a file in which none occurs is an ordinary
 * transactional file. Finding one proves nothing (`CASE … END`, `ALTER DATABASE`, a
 * `BEGIN ATOMIC` body): the parser decides. Anything the scanner cannot follow to the end
 * (an unterminated string or comment) also goes to the parser, which reports the error.
 */

/** Keywords that may make a statement refuse a transaction block, wherever they appear. */
const ANYWHERE = new Set(['CONCURRENTLY', 'VACUUM', 'REINDEX', 'SYSTEM', 'DATABASE', 'TABLESPACE', 'SUBSCRIPTION', 'DISCARD', 'EXTENSION']);
/** Keywords that begin a transaction-control statement (TransactionStmt). */
const STATEMENT_START = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE']);

export interface PreScan {
  /** Why the parser must look at this file (keywords found, or "unterminated …"); empty when it need not. */
  parserNeeded: string[];
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isIdentStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentCont = (c: number): boolean => isIdentStart(c) || isDigit(c) || c === 36; /* $ */
const isDollarTagCont = (c: number): boolean => isIdentStart(c) || isDigit(c);

const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const BACKSLASH = 92;
const SEMICOLON = 59;

export function prescanSql(sql: string): PreScan {
  const found = new Set<string>();
  const n = sql.length;
  let i = 0;
  let atStatementStart = true;
  const unterminated = (what: string): PreScan => ({ parserNeeded: [...found, `unterminated ${what}`] });

  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i += 1;
      continue;
    }
    // -- comment to the end of the line (Postgres ends it at \n or \r).
    if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      i += 2;
      while (i < n && sql.charCodeAt(i) !== 10 && sql.charCodeAt(i) !== 13) i += 1;
      continue;
    }
    // /* comment */, which nests.
    if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth += 1;
          i += 2;
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth -= 1;
          i += 2;
        } else {
          i += 1;
        }
      }
      if (depth > 0) return unterminated('/* comment');
      continue;
    }
    if (c === QUOTE) {
      const end = skipQuoted(sql, i + 1, QUOTE, false);
      if (end < 0) return unterminated('string');
      i = end;
      atStatementStart = false;
      continue;
    }
    if (c === DQUOTE) {
      const end = skipQuoted(sql, i + 1, DQUOTE, false);
      if (end < 0) return unterminated('quoted identifier');
      i = end;
      atStatementStart = false;
      continue;
    }
    if (c === DOLLAR) {
      const next = sql.charCodeAt(i + 1);
      if (isDigit(next)) {
        // $1: a parameter (trailing junk is the parser's to reject).
        i += 2;
        while (i < n && isIdentCont(sql.charCodeAt(i))) i += 1;
        atStatementStart = false;
        continue;
      }
      let j = i + 1;
      if (isIdentStart(next)) {
        j += 1;
        while (j < n && isDollarTagCont(sql.charCodeAt(j))) j += 1;
      }
      if (sql.charCodeAt(j) === DOLLAR) {
        const delimiter = sql.slice(i, j + 1);
        const close = sql.indexOf(delimiter, j + 1);
        if (close < 0) return unterminated(`${delimiter} string`);
        i = close + delimiter.length;
        atStatementStart = false;
        continue;
      }
      i += 1; // A lone $: not a token that can hide anything.
      atStatementStart = false;
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      i += 1;
      while (i < n && isIdentCont(sql.charCodeAt(i))) i += 1;
      const length = i - start;
      const next = sql.charCodeAt(i);
      // Prefixed strings: E'…' (backslash escapes), B'…', X'…', N'…', U&'…' and U&"…".
      if (length === 1 && next === QUOTE) {
        const prefix = c | 0x20; // lower case
        if (prefix === 101 /* e */ || prefix === 98 /* b */ || prefix === 120 /* x */ || prefix === 110 /* n */) {
          const end = skipQuoted(sql, i + 1, QUOTE, prefix === 101);
          if (end < 0) return unterminated('string');
          i = end;
          atStatementStart = false;
          continue;
        }
      }
      if (length === 1 && (c | 0x20) === 117 /* u */ && next === 38 /* & */) {
        const quote = sql.charCodeAt(i + 1);
        if (quote === QUOTE || quote === DQUOTE) {
          const end = skipQuoted(sql, i + 2, quote, false);
          if (end < 0) return unterminated(quote === QUOTE ? 'string' : 'quoted identifier');
          i = end;
          atStatementStart = false;
          continue;
        }
      }
      if (length <= 12) {
        const word = sql.slice(start, i).toUpperCase();
        if (ANYWHERE.has(word) || (atStatementStart && STATEMENT_START.has(word))) found.add(word);
      }
      atStatementStart = false;
      continue;
    }
    if (isDigit(c)) {
      // A number, with any trailing letters (the parser rejects junk such as 123abc).
      i += 1;
      while (i < n && (isDollarTagCont(sql.charCodeAt(i)) || sql.charCodeAt(i) === 46)) i += 1;
      atStatementStart = false;
      continue;
    }
    // Any other character is punctuation or an operator; a semicolon starts a new statement.
    atStatementStart = c === SEMICOLON;
    i += 1;
  }
  return { parserNeeded: [...found] };
}

/** Index just after the closing quote of a quoted string or identifier starting at `from`, or -1. */
function skipQuoted(sql: string, from: number, quote: number, backslashEscapes: boolean): number {
  let i = from;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === BACKSLASH) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2; // '' or "" inside: an escaped quote.
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return -1;
}
