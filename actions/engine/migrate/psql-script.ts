/**
 * Files written for psql (pg_dump's plain output, `supabase db dump`, hand-made seed files)
 * hold two things that are not SQL, which rollout, sending each file to the server without
 * psql, reads as psql would.
 *
 * **psql meta-commands**, lines that start with a backslash. `\restrict KEY` and
 * `\unrestrict KEY`, which pg_dump writes around every plain dump since the August 2025
 * releases (17.6, 16.10, 15.14, 14.19, 13.22) to stop a malicious server's data from running
 * meta-commands in psql, guard nothing where no psql runs: blanked, line for line. Any other
 * (`\connect`, `\i`, `\set`, `\copy`, …) would mean something rollout cannot do: refused at
 * its line, with the way out.
 *
 * **`COPY … FROM stdin` with its data inline**, as pg_dump writes data and as psql (and
 * Flyway) run it:
 *
 *     COPY public.people (id, name) FROM stdin;
 *     1	alice
 *     2	\N
 *     \.
 *
 * The data lines are not SQL, so the parser and a plain multi-statement query cannot take
 * them, and COPY's own sub-protocol does not travel through the embedded database's socket.
 * So each block becomes an INSERT of the same rows, laid out line for line: the statement's
 * lines hold `INSERT INTO <target> (<columns>) VALUES`, each data line its row's tuple, the
 * `\.` line the closing semicolon. Every line of the file keeps its number, so an error in a
 * row (a value its column's type refuses) is reported at that row's line, and everything
 * after the block stays where the file has it. Values are string literals of unknown type,
 * which Postgres converts with the column type's input function, as COPY does.
 *
 * Text format (pg_dump's) and CSV are supported with DELIMITER, NULL, HEADER, QUOTE and
 * ESCAPE; any other option (BINARY, FORCE_*, WHERE, DEFAULT, ON_ERROR, …) is refused with the
 * way out. Differences from COPY that remain: rules on the table apply (COPY ignores them),
 * and a row with the wrong number of fields is refused by INSERT's message, not COPY's.
 */
import type { Problem } from '../problems.ts';
import { lineColumnAt } from './position.ts';
import { startsStatement } from './prescan.ts';

export interface RunnableScript {
  /** The text to run: each block replaced by its INSERT, line for line; the input itself when there is none. */
  sql: string;
  /** 1-based line ranges, inclusive, of what is not SQL: the blocks' data and blanked meta-command lines. */
  notSql: [number, number][];
  problems: Problem[];
}

interface CopyOptions {
  format: 'text' | 'csv';
  delimiter: string;
  null: string;
  header: boolean;
  quote: string;
  escape: string;
}

/** Rows per INSERT: one statement per block would be one huge VALUES list for a large dump. */
const ROWS_PER_INSERT = 1000;

/** A line that may start a COPY block or be a psql meta-command (`\restrict KEY`, `\connect db`). */
const CANDIDATE = /^[ \t]*(?:(copy)\b|\\([A-Za-z!?]+)[^\n]*$)/gimu;
/** Meta-commands that guard nothing when no psql runs: blanked. */
const HARMLESS_COMMANDS = new Set(['restrict', 'unrestrict']);

export function runnableFromPsqlScript(path: string, sql: string): RunnableScript {
  if (!/\bstdin\b|^[ \t]*\\/imu.test(sql)) return { sql, notSql: [], problems: [] };
  const problems: Problem[] = [];
  const notSql: [number, number][] = [];
  let out = '';
  let copiedUpTo = 0;
  // The lexer's state is clean after a block or a meta-command line: scan from there, never the whole prefix again.
  let scanFrom = 0;
  CANDIDATE.lastIndex = 0;
  for (let match = CANDIDATE.exec(sql); match; match = CANDIDATE.exec(sql)) {
    const lineStart = match.index;
    if (!startsStatement(sql, scanFrom, lineStart)) continue;
    const problemAt = (offset: number, message: string): void => {
      problems.push({ file: path, ...lineColumnAt(sql, offset), severity: 'error', message });
    };
    const command = match[2];
    if (command !== undefined) {
      const lineEnd = lineStart + match[0].length;
      const { line } = lineColumnAt(sql, lineStart);
      if (HARMLESS_COMMANDS.has(command)) {
        out += sql.slice(copiedUpTo, lineStart) + ' '.repeat(match[0].length);
        copiedUpTo = lineEnd;
        notSql.push([line, line]);
      } else {
        problemAt(
          lineStart + match[0].indexOf('\\'),
          `\\${command} is a psql meta-command, not SQL: rollout sends each file to the server without psql. Remove the line, or write what it does in SQL (a \\set variable as its value, \\i as a migration of its own).`,
        );
      }
      scanFrom = lineEnd;
      continue;
    }
    const at = lineStart + match[0].length - (match[1]?.length ?? 0);
    const statementEnd = endOfStatement(sql, at);
    if (statementEnd === undefined) break;
    const statement = sql.slice(at, statementEnd);
    const head = /^copy\s+(?<target>(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*)(?:\s*\.\s*(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*))*)\s*(?<columns>\([^)]*\))?\s*from\s+stdin\b(?<rest>[\s\S]*);$/iu.exec(statement);
    if (!head?.groups) continue; // COPY … TO, FROM 'file', FROM PROGRAM: plain SQL, left to Postgres.
    const lineEnd = indexOrEnd(sql, '\n', statementEnd);
    if (sql.slice(statementEnd, lineEnd).replace(/--.*$/u, '').trim() !== '') {
      problemAt(statementEnd, 'The data of COPY … FROM stdin starts on the line after its semicolon: end that line after the semicolon (as pg_dump writes it).');
      break;
    }
    const options = copyOptions(head.groups.rest ?? '');
    if ('problem' in options) {
      problemAt(at, options.problem);
      break;
    }
    const dataStart = Math.min(lineEnd + 1, sql.length);
    const terminator = /^\\\.\r?$/mu;
    const found = terminator.exec(sql.slice(dataStart));
    const dataEnd = found ? dataStart + found.index : sql.length;
    const blockEnd = found ? indexOrEnd(sql, '\n', dataEnd) : sql.length;
    const rows = options.format === 'csv' ? csvRows(sql.slice(dataStart, dataEnd), options) : textRows(sql.slice(dataStart, dataEnd), options);
    if ('problem' in rows) {
      problemAt(dataStart + rows.offset, rows.problem);
      break;
    }
    const insert = `INSERT INTO ${head.groups.target}${head.groups.columns ? ` ${head.groups.columns}` : ''} VALUES`;
    const block = sql.slice(at, blockEnd);
    const lines = (block.match(/\n/gu) ?? []).length;
    const statementLines = (statement.match(/\n/gu) ?? []).length;
    out += sql.slice(copiedUpTo, at) + layOut(insert, lines, statementLines + 1, rows.rows);
    const firstDataLine = lineColumnAt(sql, dataStart).line;
    const lastLine = lineColumnAt(sql, Math.max(dataStart, blockEnd - 1)).line;
    if (dataStart < blockEnd) notSql.push([firstDataLine, lastLine]);
    copiedUpTo = blockEnd;
    scanFrom = blockEnd;
    CANDIDATE.lastIndex = blockEnd;
  }
  if (copiedUpTo === 0) return { sql, notSql: [], problems };
  return { sql: out + sql.slice(copiedUpTo), notSql, problems };
}

/** The offset just after the semicolon that ends the COPY statement at `at` (its quoted parts skipped). */
function endOfStatement(sql: string, at: number): number | undefined {
  let i = at;
  while (i < sql.length) {
    const c = sql[i];
    if (c === ';') return i + 1;
    if (c === "'" || c === '"') {
      // In an E'…' string a backslash escapes the next character, a quote too (QUOTE E'\'').
      const escapes = c === "'" && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/[\p{L}\p{N}_$]/u.test(sql[i - 2] ?? '');
      let close = i + 1;
      while (close < sql.length && sql[close] !== c) close += escapes && sql[close] === '\\' ? 2 : 1;
      if (close >= sql.length) return undefined;
      i = close + 1; // A doubled quote ('' or "") reads as the end of one quoted part and the start of the next.
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      i = indexOrEnd(sql, '\n', i);
      continue;
    }
    i += 1;
  }
  return undefined;
}

const indexOrEnd = (text: string, needle: string, from: number): number => {
  const found = text.indexOf(needle, from);
  return found === -1 ? text.length : found;
};

/**
 * The INSERT for a block, line for line: `INSERT INTO … VALUES` on the statement's first line,
 * each row's tuple on the line where its data starts, as many line breaks in all as the block
 * has (`lines`). A new INSERT starts every ROWS_PER_INSERT rows; a block without rows is blank.
 */
function layOut(insert: string, lines: number, firstDataLine: number, rows: Row[]): string {
  let text = '';
  let line = 0;
  const moveTo = (target: number): void => {
    text += '\n'.repeat(Math.max(0, target - line));
    line = Math.max(line, target);
  };
  rows.forEach((row, index) => {
    const first = index % ROWS_PER_INSERT === 0;
    const last = index === rows.length - 1 || (index + 1) % ROWS_PER_INSERT === 0;
    if (index === 0) text += insert;
    moveTo(firstDataLine + row.line);
    text += `${first && index > 0 ? `${insert} ` : ''}(${row.values.join(', ')})${last ? ';' : ','}`;
  });
  moveTo(lines);
  return text;
}

interface Row {
  /** SQL literals: NULL or E'…'. */
  values: string[];
  /** The data line (0-based) where the row starts. */
  line: number;
}

type Rows = { rows: Row[] } | { problem: string; offset: number };

/** COPY's text format: one row per line, fields split on the delimiter, backslash escapes, the null string compared before them. */
function textRows(data: string, options: CopyOptions): Rows {
  const lines = data.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const rows: Row[] = [];
  lines.forEach((raw, index) => {
    if (index === 0 && options.header) return;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    rows.push({ values: splitText(line, options.delimiter).map((field) => (field === options.null ? 'NULL' : textLiteral(field))), line: index });
  });
  return { rows };
}

/** Fields of a text-format line: a backslash escapes the next character, the delimiter included. */
function splitText(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      field += c + line[i + 1];
      i += 1;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}

/**
 * A text-format field as an escape-string literal. COPY's backslash escapes are E'…''s,
 * but for \v (COPY: vertical tab) and \u, \U (E'…': Unicode escapes; COPY: the letter).
 */
function textLiteral(field: string): string {
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '\\') {
      const next = field[i + 1];
      i += 1;
      if (next === undefined) out += '\\\\';
      else if (next === 'v') out += '\\013';
      else if (next === 'u' || next === 'U' || next === "'") out += next === "'" ? "\\'" : next;
      else out += `\\${next}`;
    } else if (c === "'") {
      out += "\\'";
    } else {
      out += c;
    }
  }
  return `E'${out}'`;
}

/** A value as an escape-string literal whose text is exactly `value` (line breaks escaped, so the literal stays on one line). */
const plainLiteral = (value: string): string =>
  `E'${value.replace(/\\/gu, '\\\\').replace(/'/gu, "\\'").replace(/\n/gu, '\\n').replace(/\r/gu, '\\r')}'`;

/** COPY's CSV format: quoted fields may hold delimiters, quotes (doubled, or after ESCAPE) and line breaks; an unquoted null string is NULL. */
function csvRows(data: string, options: CopyOptions): Rows {
  const rows: Row[] = [];
  let values: string[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let line = 0;
  let rowLine = 0;
  let rowStart = 0;
  const endField = (): void => {
    values.push(!quoted && field === options.null ? 'NULL' : plainLiteral(field));
    field = '';
    quoted = false;
  };
  const endRow = (): void => {
    endField();
    rows.push({ values, line: rowLine });
    values = [];
  };
  let i = 0;
  while (i < data.length) {
    const c = data[i];
    if (inQuotes) {
      // As Postgres reads it (CopyReadAttributesCSV): ESCAPE before QUOTE or ESCAPE is that character.
      if (c === options.escape && (data[i + 1] === options.quote || data[i + 1] === options.escape)) {
        field += data[i + 1];
        i += 2;
      } else if (c === options.quote) {
        inQuotes = false;
        i += 1;
      } else {
        if (c === '\n') line += 1;
        field += c;
        i += 1;
      }
    } else if (c === options.quote) {
      inQuotes = true;
      quoted = true;
      i += 1;
    } else if (c === options.delimiter) {
      endField();
      i += 1;
    } else if (c === '\n' || (c === '\r' && data[i + 1] === '\n')) {
      endRow();
      i += c === '\r' ? 2 : 1;
      line += 1;
      rowLine = line;
      rowStart = i;
    } else {
      field += c;
      i += 1;
    }
  }
  if (inQuotes) return { problem: 'Unterminated quoted CSV field in the data of COPY … FROM stdin: close the quote.', offset: rowStart };
  if (field !== '' || quoted || values.length > 0) endRow();
  return { rows: options.header ? rows.slice(1) : rows };
}

/**
 * What follows `FROM stdin`: `[WITH] (option value, …)` or the older keyword form
 * (`[WITH] [DELIMITER [AS] 'd'] [NULL [AS] 'n'] [CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e']]`).
 */
function copyOptions(rest: string): CopyOptions | { problem: string } {
  const text = rest.trim().replace(/^with\b/iu, '').trim();
  const unsupported = (what: string): { problem: string } => ({
    problem: `COPY … FROM stdin with ${what} is not supported: rollout turns the data into INSERTs, for text and CSV with DELIMITER, NULL, HEADER, QUOTE and ESCAPE. Write the rows as INSERT statements, or dump them with \`pg_dump --inserts\`.`,
  });
  const tokens = [...text.matchAll(/[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|[(),]|[^\s(),']+/gu)].map((m) => m[0]);
  const parenthesised = tokens[0] === '(';
  if (parenthesised && tokens.at(-1) !== ')') return unsupported(`'${text}'`);
  const words = parenthesised ? tokens.slice(1, -1) : tokens;
  const options: { format?: string; delimiter?: string; null?: string; quote?: string; escape?: string; header?: boolean } = {};
  let i = 0;
  // A value: a string, or (in the list form) a bare word such as csv, true or off.
  const value = (): string | undefined => {
    if (words[i]?.toLowerCase() === 'as') i += 1;
    const token = words[i];
    if (token === undefined || token === ',') return undefined;
    i += 1;
    return stringValue(token) ?? token;
  };
  while (i < words.length) {
    const word = (words[i] ?? '').toLowerCase();
    i += 1;
    if (word === ',') continue;
    if (word === 'format') options.format = value()?.toLowerCase();
    else if (word === 'csv') options.format = 'csv';
    else if (word === 'delimiter' || word === 'null' || word === 'quote' || word === 'escape') {
      const given = value();
      if (given === undefined) return unsupported(`${word.toUpperCase()} without a value`);
      options[word] = given;
    } else if (word === 'header') {
      const given = parenthesised ? value()?.toLowerCase() : undefined;
      if (given === 'match') return unsupported('HEADER MATCH');
      options.header = given === undefined || ['true', 'on', '1'].includes(given);
    } else if (word === 'freeze') {
      if (parenthesised) value();
    } else if (word === 'encoding') {
      const given = value();
      if (!/^utf-?8$/iu.test(given ?? '')) return unsupported(`ENCODING ${given ?? ''}`.trim());
    } else {
      return unsupported(word.toUpperCase());
    }
  }
  if (options.format !== undefined && options.format !== 'text' && options.format !== 'csv') return unsupported(`FORMAT ${options.format}`);
  const format = options.format === 'csv' ? 'csv' : 'text';
  const delimiter = options.delimiter ?? (format === 'csv' ? ',' : '\t');
  const quote = options.quote ?? '"';
  const escape = options.escape ?? quote;
  if ([delimiter, quote, escape].some((c) => c.length !== 1)) return unsupported('a DELIMITER, QUOTE or ESCAPE that is not one character');
  if (format === 'text' && (options.quote !== undefined || options.escape !== undefined)) return unsupported('QUOTE or ESCAPE in text format');
  return { format, delimiter, null: options.null ?? (format === 'csv' ? '' : '\\N'), header: options.header ?? false, quote, escape };
}

/** The text of a string token ('…' or E'…'); undefined for any other token. */
function stringValue(token: string): string | undefined {
  if (token.startsWith("'")) return token.slice(1, -1).replace(/''/gu, "'");
  if (/^[eE]'/u.test(token)) {
    const escapes: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', '\\': '\\', "'": "'" };
    return token.slice(2, -1).replace(/''/gu, "'").replace(/\\(.)/gu, (_, c: string) => escapes[c] ?? c);
  }
  return undefined;
}
