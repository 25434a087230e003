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
  /** The file's statements as the lexer delimits them (only when asked for, and the scan reached the end). */
  statements?: LexicalStatement[];
  /** The word ATOMIC occurs as a keyword: a BEGIN ATOMIC body has semicolons inside one statement. */
  atomic?: boolean;
}

/** A statement found by the lexer: from just after the previous top-level semicolon to its own. */
export interface LexicalStatement {
  /** 0-based offset where the statement's text starts (after the previous semicolon, leading comments included). */
  start: number;
  /** Offset just after its semicolon (or the end of the file). */
  end: number;
  /** It ends with a semicolon (the last statement of a file may not). */
  terminated: boolean;
  /** Offset of its first token. */
  codeStart: number;
  /** Its first words (up to four), upper-cased. */
  words: string[];
  /** It contains the keyword CONCURRENTLY. */
  concurrently: boolean;
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

export function prescanSql(sql: string, options: { statements?: boolean } = {}): PreScan {
  const found = new Set<string>();
  const n = sql.length;
  let i = 0;
  let atStatementStart = true;
  const unterminated = (what: string): PreScan => ({ parserNeeded: [...found, `unterminated ${what}`] });
  // Statement boundaries, when asked for: top-level semicolons (parentheses counted, as in CREATE RULE … (a; b)).
  const collect = options.statements === true;
  const statements: LexicalStatement[] = [];
  let statementStart = 0;
  let codeStart = -1;
  let words: string[] = [];
  let concurrently = false;
  let parens = 0;
  let atomic = false;
  const code = (at: number): void => {
    if (collect && codeStart < 0) codeStart = at;
  };
  const endStatement = (end: number, terminated: boolean): void => {
    if (codeStart >= 0) statements.push({ start: statementStart, end, terminated, codeStart, words, concurrently });
    statementStart = end;
    codeStart = -1;
    words = [];
    concurrently = false;
  };

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
    const tokenStart = i;
    if (c === QUOTE) {
      const end = skipQuoted(sql, i + 1, QUOTE, false);
      if (end < 0) return unterminated('string');
      i = end;
      atStatementStart = false;
      code(tokenStart);
      continue;
    }
    if (c === DQUOTE) {
      const end = skipQuoted(sql, i + 1, DQUOTE, false);
      if (end < 0) return unterminated('quoted identifier');
      i = end;
      atStatementStart = false;
      code(tokenStart);
      continue;
    }
    if (c === DOLLAR) {
      const next = sql.charCodeAt(i + 1);
      if (isDigit(next)) {
        // $1: a parameter (trailing junk is the parser's to reject).
        i += 2;
        while (i < n && isIdentCont(sql.charCodeAt(i))) i += 1;
        atStatementStart = false;
        code(tokenStart);
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
        code(tokenStart);
        continue;
      }
      i += 1; // A lone $: not a token that can hide anything.
      atStatementStart = false;
      code(tokenStart);
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
          code(tokenStart);
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
          code(tokenStart);
          continue;
        }
      }
      if (length <= 12) {
        const word = sql.slice(start, i).toUpperCase();
        if (ANYWHERE.has(word) || (atStatementStart && STATEMENT_START.has(word))) found.add(word);
        if (collect) {
          if (words.length < 4) words.push(word);
          if (word === 'CONCURRENTLY') concurrently = true;
          else if (word === 'ATOMIC') atomic = true;
        }
      } else if (collect && words.length < 4) {
        words.push(sql.slice(start, i).toUpperCase());
      }
      atStatementStart = false;
      code(tokenStart);
      continue;
    }
    if (isDigit(c)) {
      // A number, with any trailing letters (the parser rejects junk such as 123abc).
      i += 1;
      while (i < n && (isDollarTagCont(sql.charCodeAt(i)) || sql.charCodeAt(i) === 46)) i += 1;
      atStatementStart = false;
      code(tokenStart);
      continue;
    }
    // Any other character is punctuation or an operator; a semicolon starts a new statement.
    atStatementStart = c === SEMICOLON;
    i += 1;
    if (!collect) continue;
    if (c === SEMICOLON && parens === 0) endStatement(i, true);
    else if (c !== SEMICOLON) {
      code(tokenStart);
      if (c === 40 /* ( */) parens += 1;
      else if (c === 41 /* ) */) parens -= 1;
    }
  }
  if (!collect) return { parserNeeded: [...found] };
  endStatement(n, false);
  return { parserNeeded: [...found], statements, atomic };
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

/**
 * `at` begins a statement at the top level: not inside a string, comment or dollar quote,
 * nor in the middle of another statement. `from` is a point known to be such a start (the
 * beginning of the file, or the end of a block the caller has read), scanned from there.
 */
export function startsStatement(sql: string, from: number, at: number): boolean {
  const scan = prescanSql(sql.slice(from, at), { statements: true });
  if (scan.parserNeeded.some((word) => word.startsWith('unterminated'))) return false;
  const last = scan.statements?.at(-1);
  return !last || last.terminated;
}
