/**
 * Files written for psql: COPY … FROM stdin with inline data, and pg_dump's \restrict lines.
 * The data files are made by the real pg_dump and psql from a source database on the server
 * (so those tests need TEST_DATABASE_URL); they are applied to both databases and the rows
 * compared with the source's, value for value.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { apply, query, rejection, writeMigrations } from './support/migrations.ts';
import { runnableFromPsqlScript } from '../../actions/engine/migrate/psql-script.ts';
import { readMigrationFiles } from '../../actions/engine/migrate/files.ts';
import { loadParser, parseSql } from '../../actions/engine/migrate/statements.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const lines = (text: string): number => text.split('\n').length;

describe('runnableFromPsqlScript', () => {
  it('turns a text-format block into an INSERT that keeps every line where the file has it', async () => {
    const sql = ['SET x = 1;', 'COPY public.people (id, name, note) FROM stdin;', '1\ta\\tb\\nc\\\\d\t\\N', "2\tit's\t\\v\\u", '\\.', 'SELECT 1;', ''].join('\n');
    const out = runnableFromPsqlScript('m.sql', sql);
    expect(out.problems).toEqual([]);
    expect(lines(out.sql)).toBe(lines(sql));
    const outLines = out.sql.split('\n');
    expect(outLines[0]).toBe('SET x = 1;');
    expect(outLines[1]).toBe('INSERT INTO public.people (id, name, note) VALUES');
    expect(outLines[2]).toBe("(E'1', E'a\\tb\\nc\\\\d', NULL),");
    expect(outLines[3]).toBe("(E'2', E'it\\'s', E'\\013u');");
    expect(outLines[4]).toBe('');
    expect(outLines[5]).toBe('SELECT 1;');
    expect(out.notSql).toEqual([[3, 5]]);
    // What runs is SQL the parser takes.
    await loadParser();
    expect(parseSql('m.sql', out.sql, 150_000).problems).toEqual([]);
  });

  it('reads CSV with a header, quoted delimiters, doubled quotes, line breaks in a field and the unquoted-empty NULL', () => {
    const sql = ['COPY t (a, b) FROM stdin WITH (FORMAT csv, HEADER true);', 'a,b', '"x,y","say ""hi"""', '"two', 'lines",', ',""', '\\.', 'SELECT 2;'].join('\n');
    const out = runnableFromPsqlScript('m.sql', sql);
    expect(out.problems).toEqual([]);
    const outLines = out.sql.split('\n');
    expect(lines(out.sql)).toBe(lines(sql));
    expect(outLines[0]).toBe('INSERT INTO t (a, b) VALUES');
    expect(outLines[1]).toBe(''); // the header line makes no row
    expect(outLines[2]).toBe(`(E'x,y', E'say "hi"'),`);
    expect(outLines[3]).toBe("(E'two\\nlines', NULL),");
    expect(outLines[4]).toBe('');
    expect(outLines[5]).toBe("(NULL, E'');");
    expect(outLines[7]).toBe('SELECT 2;');
  });

  it('takes the older option words, another delimiter and null string, and a quoted target', () => {
    const out = runnableFromPsqlScript('m.sql', 'COPY "My Table" FROM STDIN WITH DELIMITER AS \'|\' NULL AS \'-\';\n1|-\n\\.\n');
    expect(out.problems).toEqual([]);
    expect(out.sql.split('\n').slice(0, 2)).toEqual(['INSERT INTO "My Table" VALUES', "(E'1', NULL);"]);
    const legacyCsv = runnableFromPsqlScript('m.sql', "copy t from stdin csv header quote as '''';\nh\n'a,b',c\n\\.\n");
    expect(legacyCsv.problems).toEqual([]);
    expect(legacyCsv.sql.split('\n')[2]).toBe("(E'a,b', E'c');");
  });

  it('starts a new INSERT every 1,000 rows, still line for line', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => `${i}`);
    const sql = `COPY t (id) FROM stdin;\n${rows.join('\n')}\n\\.\n`;
    const out = runnableFromPsqlScript('m.sql', sql);
    const outLines = out.sql.split('\n');
    expect(lines(out.sql)).toBe(lines(sql));
    expect(outLines[1000]).toBe("(E'999');");
    expect(outLines[1001]).toBe("INSERT INTO t (id) VALUES (E'1000'),");
    expect(outLines[2500]).toBe("(E'2499');");
  });

  it('leaves COPY inside strings, comments and other statements, COPY … TO stdout and COPY from a file alone', () => {
    for (const sql of [
      "SELECT 'COPY t FROM stdin;';\n",
      '-- COPY t FROM stdin;\nSELECT 1;\n',
      'CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$\nCOPY t FROM stdin;\n$$;\n',
      "COPY t TO stdout;\nCOPY t FROM '/tmp/x.csv';\n",
    ]) {
      const out = runnableFromPsqlScript('m.sql', sql);
      expect(out).toEqual({ sql, notSql: [], problems: [] });
    }
  });

  it('blanks a block without rows, and reads the data to the end of the file when \\. is missing (as psql does)', () => {
    const empty = 'COPY t (id) FROM stdin;\n\\.\nSELECT 1;\n';
    expect(runnableFromPsqlScript('m.sql', empty).sql).toBe('\n\nSELECT 1;\n');
    const open = runnableFromPsqlScript('m.sql', 'COPY t (id) FROM stdin;\n1\n2\n');
    expect(open.sql).toBe("INSERT INTO t (id) VALUES\n(E'1'),\n(E'2');\n");
  });

  it('refuses options it cannot reproduce, at the statement, with the way out', () => {
    for (const [options, named] of [
      ['WITH (FORMAT binary)', 'FORMAT binary'],
      ['BINARY', 'BINARY'],
      ['WITH (FORMAT csv, FORCE_NULL (a))', 'FORCE_NULL'],
      ['WHERE id > 1', 'WHERE'],
      ['WITH (FORMAT csv, HEADER match)', 'HEADER MATCH'],
      ["WITH (DELIMITER '||')", 'not one character'],
      ["WITH (ENCODING 'LATIN1')", 'ENCODING LATIN1'],
    ]) {
      const out = runnableFromPsqlScript('m.sql', `SELECT 1;\nCOPY t (a) FROM stdin ${options};\n1\n\\.\n`);
      expect(out.problems, options).toHaveLength(1);
      expect(out.problems[0]).toMatchObject({ file: 'm.sql', line: 2, column: 1, severity: 'error' });
      expect(out.problems[0]?.message).toContain(named);
      expect(out.problems[0]?.message).toContain('pg_dump --inserts');
    }
  });

  it('says where an unterminated CSV quote starts', () => {
    const out = runnableFromPsqlScript('m.sql', 'COPY t (a) FROM stdin CSV;\nok\n"never closed\n\\.\n');
    expect(out.problems.map((p) => [p.line, p.column])).toEqual([[3, 1]]);
    expect(out.problems[0]?.message).toContain('close the quote');
  });
});

describe('runnableFromPsqlScript, case by case', () => {
  const run = (sql: string) => runnableFromPsqlScript('m.sql', sql);
  const sqlOf = (sql: string) => {
    const out = run(sql);
    expect(out.problems).toEqual([]);
    return out.sql;
  };
  const problemOf = (sql: string) => {
    const out = run(sql);
    expect(out.sql).toBe(sql);
    expect(out.problems).toHaveLength(1);
    return out.problems[0];
  };

  it('refuses an indented meta-command at its backslash, and a shell escape', () => {
    expect(problemOf('  \\set x 1\nSELECT 1;\n')).toMatchObject({
      line: 1,
      column: 3,
      message: '\\set is a psql meta-command, not SQL: rollout sends each file to the server without psql. Remove the line, or write what it does in SQL (a \\set variable as its value, \\i as a migration of its own).',
    });
    expect(problemOf('SELECT 1;\n\\! rm -rf /\n')).toMatchObject({ line: 2, column: 1, message: expect.stringMatching(/^\\! is a psql meta-command/) as unknown });
  });

  it("keeps an indented COPY's indentation and its lines", () => {
    expect(run('  COPY t (id) FROM stdin;\n1\n\\.\n')).toEqual({ sql: "  INSERT INTO t (id) VALUES\n(E'1');\n\n", notSql: [[2, 3]], problems: [] });
  });

  it('takes a target quoted with doubled quotes, qualified with spaces around the dot, and non-ASCII or $ in names', () => {
    expect(sqlOf('COPY "my ""odd"" schema" . tbl_2$ (a, b) FROM stdin;\n1\t2\n\\.\n')).toBe(`INSERT INTO "my ""odd"" schema" . tbl_2$ (a, b) VALUES\n(E'1', E'2');\n\n`);
    expect(sqlOf('COPY ünï.t FROM stdin;\n1\n\\.\n')).toBe("INSERT INTO ünï.t VALUES\n(E'1');\n\n");
  });

  it('wants the data on the line after the semicolon, a comment there allowed', () => {
    expect(problemOf('COPY t FROM stdin; 1\n\\.\n')).toMatchObject({
      line: 1,
      column: 19,
      message: 'The data of COPY … FROM stdin starts on the line after its semicolon: end that line after the semicolon (as pg_dump writes it).',
    });
    expect(sqlOf('COPY t FROM stdin; -- the data follows\n1\n\\.\n')).toBe("INSERT INTO t VALUES\n(E'1');\n\n");
  });

  it('reads CRLF line ends, in text and in CSV (where a quoted field keeps its own)', () => {
    expect(run('COPY t (id) FROM stdin;\r\n1\r\n2\r\n\\.\r\nSELECT 1;\r\n')).toEqual({ sql: "INSERT INTO t (id) VALUES\n(E'1'),\n(E'2');\n\nSELECT 1;\r\n", notSql: [[2, 4]], problems: [] });
    expect(sqlOf('COPY t (a, b) FROM stdin CSV;\r\n"x\r\ny",2\r\n\\.\r\n')).toBe("INSERT INTO t (a, b) VALUES\n(E'x\\r\\ny', E'2');\n\n\n");
  });

  it('puts the first row on its own line after a COPY statement of two lines', () => {
    expect(run('COPY t (a,\n  b) FROM stdin;\n1\t2\n\\.\nSELECT 3;\n')).toEqual({ sql: "INSERT INTO t (a,\n  b) VALUES\n\n(E'1', E'2');\n\nSELECT 3;\n", notSql: [[3, 4]], problems: [] });
  });

  it('drops a COPY that ends the file at its semicolon: no data, nothing marked', () => {
    expect(run('SELECT 1;\nCOPY t (id) FROM stdin;')).toEqual({ sql: 'SELECT 1;\n', notSql: [], problems: [] });
  });

  it('reads data lines that start with \\N, a backslash or the word copy as data', () => {
    expect(run('COPY t (a, b) FROM stdin;\n\\N\tx\n\\restrict k\ncopy\ty\n\\.\nSELECT 1;\n')).toEqual({
      sql: "INSERT INTO t (a, b) VALUES\n(NULL, E'x'),\n(E'\\restrict k'),\n(E'copy', E'y');\n\nSELECT 1;\n",
      notSql: [[2, 5]],
      problems: [],
    });
  });

  it('ends the statement at its own semicolon, not at a quoted one', () => {
    expect(sqlOf("COPY t (a, b) FROM stdin WITH DELIMITER ';';\n1;2\n\\.\n")).toBe("INSERT INTO t (a, b) VALUES\n(E'1', E'2');\n\n");
    expect(sqlOf('COPY "a;b" (x) FROM stdin;\n1\n\\.\n')).toBe(`INSERT INTO "a;b" (x) VALUES\n(E'1');\n\n`);
    // Without a closing quote or semicolon there is no block: Postgres reports the statement.
    for (const sql of ['COPY t FROM stdin\n', "COPY t FROM stdin WITH (DELIMITER 'x\n"]) expect(run(sql)).toEqual({ sql, notSql: [], problems: [] });
  });

  it("reads text-format escapes: a trailing backslash, an escaped delimiter, \\U, \\' and any other letter", () => {
    expect(sqlOf('COPY t (a) FROM stdin;\nend\\\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n(E'end\\\\');\n\n");
    expect(sqlOf('COPY t (a, b) FROM stdin;\na\\\tb\tc\n\\.\n')).toBe("INSERT INTO t (a, b) VALUES\n(E'a\\\tb', E'c');\n\n");
    expect(sqlOf("COPY t (a) FROM stdin;\n\\U\\'x\\q\n\\.\n")).toBe("INSERT INTO t (a) VALUES\n(E'U\\'x\\q');\n\n");
  });

  it('reads CSV with another ESCAPE, and backslashes and quotes as plain text', () => {
    expect(sqlOf(`COPY t (a, b) FROM stdin WITH (FORMAT csv, ESCAPE '\\');\n"a\\"b","c\\\\d"\n\\.\n`)).toBe(`INSERT INTO t (a, b) VALUES\n(E'a"b', E'c\\\\d');\n\n`);
    expect(sqlOf(`COPY t (a, b) FROM stdin CSV;\n"back\\slash","it's"\n\\.\n`)).toBe("INSERT INTO t (a, b) VALUES\n(E'back\\\\slash', E'it\\'s');\n\n");
  });

  it('keeps a last CSV row without a line end, also an empty quoted field or a lone comma', () => {
    expect(run('COPY t (a) FROM stdin CSV;\n1,2')).toEqual({ sql: "INSERT INTO t (a) VALUES\n(E'1', E'2');", notSql: [[2, 2]], problems: [] });
    expect(sqlOf('COPY t (a) FROM stdin CSV;\n""')).toBe("INSERT INTO t (a) VALUES\n(E'');");
    expect(sqlOf('COPY t (a) FROM stdin CSV;\n,')).toBe('INSERT INTO t (a) VALUES\n(NULL, NULL);');
  });

  it('reads HEADER as the list form spells it: bare or true/on skips the first line, false/off/0 keep it', () => {
    expect(sqlOf('COPY t (a) FROM stdin WITH (HEADER);\nh\n1\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n\n(E'1');\n\n");
    expect(sqlOf('COPY t (a) FROM stdin WITH (FORMAT csv, HEADER on);\nh\n\\.\n')).toBe('\n\n\n');
    for (const off of ['false', 'off', '0']) expect(sqlOf(`COPY t (a) FROM stdin WITH (FORMAT csv, HEADER ${off});\nh\n\\.\n`), off).toBe("INSERT INTO t (a) VALUES\n(E'h');\n\n");
  });

  it("takes a quoted FORMAT, UTF-8 and FREEZE, E'…' and string values, and the keyword FREEZE", () => {
    expect(sqlOf("COPY t (a) FROM stdin WITH (FORMAT 'CSV', ENCODING 'UTF-8', FREEZE true);\n1,2\n\\.\n")).toBe("INSERT INTO t (a) VALUES\n(E'1', E'2');\n\n");
    expect(sqlOf("COPY t (a, b) FROM stdin WITH (DELIMITER E'\\t', NULL 'nil');\n1\tnil\n\\.\n")).toBe("INSERT INTO t (a, b) VALUES\n(E'1', NULL);\n\n");
    expect(sqlOf('COPY t (a) FROM stdin WITH (ENCODING utf8);\n1\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n(E'1');\n\n");
    expect(sqlOf('COPY t (a) FROM stdin WITH FREEZE;\n1\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n(E'1');\n\n");
  });

  it('refuses an option list left open, an option without its value, and QUOTE in text format, each saying which', () => {
    const message = (what: string) =>
      `COPY … FROM stdin with ${what} is not supported: rollout turns the data into INSERTs, for text and CSV with DELIMITER, NULL, HEADER, QUOTE and ESCAPE. Write the rows as INSERT statements, or dump them with \`pg_dump --inserts\`.`;
    expect(problemOf('COPY t (a) FROM stdin WITH (FORMAT csv;\n1\n\\.\n')).toMatchObject({ line: 1, column: 1, message: message("'(FORMAT csv'") });
    expect(problemOf('COPY t (a) FROM stdin WITH (DELIMITER);\n1\n\\.\n')).toMatchObject({ message: message('DELIMITER without a value') });
    expect(problemOf('COPY t (a) FROM stdin WITH (NULL, FORMAT csv);\n1\n\\.\n')).toMatchObject({ message: message('NULL without a value') });
    expect(problemOf("COPY t (a) FROM stdin WITH (QUOTE '''');\n1\n\\.\n")).toMatchObject({ message: message('QUOTE or ESCAPE in text format') });
    expect(problemOf("COPY t (a) FROM stdin WITH (ESCAPE 'x');\n1\n\\.\n")).toMatchObject({ message: message('QUOTE or ESCAPE in text format') });
    expect(problemOf("COPY t (a) FROM stdin WITH (FORMAT csv, QUOTE 'ab');\n1\n\\.\n")).toMatchObject({ message: message('a DELIMITER, QUOTE or ESCAPE that is not one character') });
    expect(problemOf("COPY t (a) FROM stdin WITH (FORMAT csv, ESCAPE '');\n1\n\\.\n")).toMatchObject({ message: message('a DELIMITER, QUOTE or ESCAPE that is not one character') });
    expect(problemOf('COPY t (a) FROM stdin WITH (ENCODING);\n1\n\\.\n')).toMatchObject({ message: message('ENCODING') });
  });

  it('skips a comment inside the COPY statement, quotes in it too, and goes on to the next block', () => {
    expect(sqlOf("COPY t TO stdout -- it's a note\n;\nCOPY u (a) FROM stdin;\n1\n\\.\n")).toBe("COPY t TO stdout -- it's a note\n;\nINSERT INTO u (a) VALUES\n(E'1');\n\n");
  });

  it('reads a last line without a line end: a text row, a single CSV field', () => {
    expect(sqlOf('COPY t (a) FROM stdin;\n12\n34')).toBe("INSERT INTO t (a) VALUES\n(E'12'),\n(E'34');");
    expect(sqlOf('COPY t (a) FROM stdin CSV;\n7')).toBe("INSERT INTO t (a) VALUES\n(E'7');");
    expect(sqlOf('COPY t (a) FROM stdin;\r\n12\r\n\\.\r\n')).toBe("INSERT INTO t (a) VALUES\n(E'12');\n\n");
  });

  it('ends the data only at a line that is \\. alone', () => {
    expect(sqlOf('COPY t (a) FROM stdin;\nend\\.\n\\.x\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n(E'end\\.'),\n(E'\\.x');\n\n");
  });

  it('takes any spacing Postgres takes around the target, its columns and FROM stdin', () => {
    expect(sqlOf('COPY  s . "a""b"(x)FROM  stdin;\n1\n\\.\n')).toBe(`INSERT INTO s . "a""b" (x) VALUES\n(E'1');\n\n`);
    expect(sqlOf('COPY s."ab" (x) FROM stdin;\n1\n\\.\n')).toBe(`INSERT INTO s."ab" (x) VALUES\n(E'1');\n\n`);
  });

  it("reads option strings with a comma, E'…' escapes and doubled quotes", () => {
    expect(sqlOf("COPY t (a, b) FROM stdin WITH (FORMAT csv, DELIMITER ',');\n1,2\n\\.\n")).toBe("INSERT INTO t (a, b) VALUES\n(E'1', E'2');\n\n");
    expect(sqlOf("COPY t (a, b) FROM stdin WITH (DELIMITER E'|');\n1|2\n\\.\n")).toBe("INSERT INTO t (a, b) VALUES\n(E'1', E'2');\n\n");
    expect(sqlOf("COPY t (a, b) FROM stdin WITH (NULL E'\\\\N');\n\\N\tx\n\\.\n")).toBe("INSERT INTO t (a, b) VALUES\n(NULL, E'x');\n\n");
    for (const [escape, char] of [['b', '\b'], ['f', '\f']]) {
      expect(sqlOf(`COPY t (a, b) FROM stdin WITH (DELIMITER E'\\${escape}');\n1${char}2\n\\.\n`), escape).toBe("INSERT INTO t (a, b) VALUES\n(E'1', E'2');\n\n");
    }
    for (const quote of ["E'\\''", "E''''"]) expect(sqlOf(`COPY t (a) FROM stdin WITH (FORMAT csv, QUOTE ${quote});\n'x,y'\n\\.\n`), quote).toBe("INSERT INTO t (a) VALUES\n(E'x,y');\n\n");
  });

  it("reads a backslash as an escape only in an E'…' string, wherever the string stands", () => {
    // ESCAPE'\' (no space: the E ends a word) and NULL  '\' (after blanks) are plain strings; e'\'' escapes its quote.
    expect(sqlOf(`COPY t (a, b) FROM stdin WITH (FORMAT csv, ESCAPE'\\');\n"a\\"b",c\n\\.\n`)).toBe(`INSERT INTO t (a, b) VALUES\n(E'a"b', E'c');\n\n`);
    expect(sqlOf(`COPY t (a, b) FROM stdin WITH (NULL  '\\');\n\\\\\tx\n\\.\n`)).toBe("INSERT INTO t (a, b) VALUES\n(E'\\\\', E'x');\n\n");
    expect(sqlOf(`COPY t (a) FROM stdin WITH (FORMAT csv, QUOTE e'\\'');\n'x,y'\n\\.\n`)).toBe("INSERT INTO t (a) VALUES\n(E'x,y');\n\n");
  });

  it('reads HEADER true and 1 as a header, FORMAT text as text, and the keyword FREEZE followed by CSV', () => {
    for (const on of ['true', '1']) expect(sqlOf(`COPY t (a) FROM stdin WITH (FORMAT csv, HEADER ${on});\nh\n\\.\n`), on).toBe('\n\n\n');
    expect(sqlOf('COPY t (a) FROM stdin WITH (FORMAT text);\n1,2\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n(E'1,2');\n\n");
    expect(sqlOf('COPY t (a) FROM stdin WITH FREEZE CSV;\n1,2\n\\.\n')).toBe("INSERT INTO t (a) VALUES\n(E'1', E'2');\n\n");
    for (const encoding of ["'XUTF8'", "'UTF8X'"]) expect(run(`COPY t (a) FROM stdin WITH (ENCODING ${encoding});\n1\n\\.\n`).problems, encoding).toHaveLength(1);
  });
});

describe('runnableFromPsqlScript', () => {
  it("blanks pg_dump's \\restrict and \\unrestrict lines, line for line", () => {
    const sql = '--\n\\restrict abc123\nSET x = 1;\n\\unrestrict abc123\n';
    const out = runnableFromPsqlScript('m.sql', sql);
    expect(out.problems).toEqual([]);
    expect(out.sql).toBe(`--\n${' '.repeat(16)}\nSET x = 1;\n${' '.repeat(18)}\n`);
    expect(out.notSql).toEqual([
      [2, 2],
      [4, 4],
    ]);
  });

  it('refuses any other meta-command at its line, but not a backslash inside a string or function body', () => {
    const out = runnableFromPsqlScript('m.sql', "SELECT 1;\n\\connect other\nSELECT 'a\n\\i inside a string';\n\\set x 1\n");
    expect(out.problems.map((p) => [p.line, p.column])).toEqual([
      [2, 1],
      [5, 1],
    ]);
    expect(out.problems[0]?.message).toContain('\\connect is a psql meta-command');
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;

/** The source rows: every kind of value COPY's text and CSV formats escape. */
const SOURCE_SQL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE people (
  id int PRIMARY KEY, name text, note text, tags text[], doc jsonb, amount numeric(16,4),
  at timestamptz, raw bytea, flag boolean, current mood, span int4range
);
INSERT INTO people VALUES
  (1, E'tab\\there\\nnew line\\\\back''quote', NULL, '{a,"b c","d,e"}', '{"k": "v\\"q", "n": [1, 2]}', 12.5, '2024-03-04 12:36:42+00', '\\x00ff10', true, 'happy', '[1,5)'),
  (2, 'ü 🎉 日本', '', '{}', 'null', -0.0001, '1999-12-31 23:59:59.999+05', '', false, 'sad', 'empty'),
  (3, E'\\\\N', E'carriage\\rreturn\\x0bvt', NULL, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
  (4, E'\\u00e9\\\\v', E'form\\ffeed\\bback', '{NULL,"NULL"}', '{"a": null}', 1e10, 'infinity', '\\x5c2e', true, 'ok', '(,)');
`;

const COLUMNS = 'id, name, note, tags, doc, amount, at, raw, flag, current, span';
/** Every row as one text, to compare a copy with its source value for value. */
const ROWS_SQL = `SELECT string_agg(format('%s|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L', ${COLUMNS}), E'\\n' ORDER BY id) AS rows FROM people`;

describe.skipIf(!serverUrl).each(databaseTargets())('COPY data made by pg_dump and psql, applied on $name', (target) => {
  let source: { url: string; drop: () => Promise<void> };
  let sourceRows: string;
  let db: TestDatabase;

  beforeAll(async () => {
    source = await sourceDatabase(serverUrl as string);
    sourceRows = await oneValue(source.url, ROWS_SQL);
    db = await target.create();
  });
  afterAll(async () => {
    await db?.dispose();
    await source?.drop();
  });

  it("applies pg_dump's data-only output (\\restrict included) and psql's CSV, with every value as the source has it", async () => {
    const dump = execFileSync('pg_dump', ['--data-only', '--table=people', source.url], { encoding: 'utf8' });
    expect(dump).toMatch(/^\\restrict /m); // what this pg_dump writes; the test is about files that have it
    expect(dump).toMatch(/^COPY public\.people .* FROM stdin;$/m);
    const csv = execFileSync('psql', ['-X', '-q', '-c', `\\copy (SELECT ${COLUMNS} FROM people ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)`, source.url], { encoding: 'utf8' });
    await writeMigrations(db.root, {
      '0001_schema.sql': SOURCE_SQL.slice(0, SOURCE_SQL.indexOf('INSERT INTO')),
      '0002_data.sql': dump,
      '0003_copy.sql': `CREATE TABLE people_csv (LIKE people);\nCOPY people_csv (${COLUMNS}) FROM stdin WITH (FORMAT csv, HEADER true);\n${csv}\\.\nSELECT 1;\n`,
    });
    const report = await apply(db);
    expect(report.applied.map((m) => m.file.path)).toEqual(['migrations/0001_schema.sql', 'migrations/0002_data.sql', 'migrations/0003_copy.sql']);
    const [copied] = await query<{ rows: string }>(db, ROWS_SQL);
    expect(copied?.rows).toBe(sourceRows);
    const [fromCsv] = await query<{ rows: string }>(db, ROWS_SQL.replace('FROM people', 'FROM people_csv'));
    expect(fromCsv?.rows).toBe(sourceRows);
    // pg_dump's session settings (search_path '') did not outlive its file.
    const [path] = await query<{ search_path: string }>(db, 'SHOW search_path');
    expect(path?.search_path).toContain('public');
  });

  it('reports a value its column refuses at the data line of its row, and runs nothing of the file', async () => {
    await writeMigrations(db.root, {
      '0004_bad_row.sql': 'CREATE TABLE counts (id int, n int);\nCOPY counts (id, n) FROM stdin;\n1\t10\n2\tten\n3\t30\n\\.\n',
    });
    const error = await rejection(apply(db));
    expect(error.message).toMatch(/migrations\/0004_bad_row\.sql:4:\d+: .*invalid input syntax for type integer: "ten"/);
    const [exists] = await query<{ found: boolean }>(db, "SELECT to_regclass('public.counts') IS NOT NULL AS found");
    expect(exists?.found).toBe(false);
  });
});

describe('loading a migration folder', () => {
  it('reports an unsupported COPY and a meta-command as problems with their lines', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rollout-copy-'));
    try {
      await mkdir(join(root, 'migrations'));
      await writeFile(join(root, 'migrations', '0001_a.sql'), 'SELECT 1;\n\\i other.sql\n');
      await writeFile(join(root, 'migrations', '0002_b.sql'), 'COPY t FROM stdin BINARY;\n\\.\n');
      const loaded = await readMigrationFiles(root, 'migrations');
      expect(loaded.problems.map((p) => `${p.file}:${p.line}:${p.column}`).sort()).toEqual(['migrations/0001_a.sql:2:1', 'migrations/0002_b.sql:1:1']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('a Prisma history for another database', () => {
  it.each([
    ['mysql', 'error'],
    ['sqlite', 'error'],
    ['cockroachdb', 'warning'],
  ])('is named at migration_lock.toml\'s provider line when it is %s (%s)', async (provider, severity) => {
    const root = await mkdtemp(join(tmpdir(), 'rollout-prisma-lock-'));
    try {
      await mkdir(join(root, 'prisma/migrations/20240101000000_init'), { recursive: true });
      // What `prisma migrate dev` writes beside the folders.
      await writeFile(join(root, 'prisma/migrations/migration_lock.toml'), `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`);
      await writeFile(join(root, 'prisma/migrations/20240101000000_init/migration.sql'), 'CREATE TABLE "User" ("id" INTEGER NOT NULL);\n');
      const loaded = await readMigrationFiles(root, 'prisma/migrations');
      expect(loaded.problems.map((p) => [p.file, p.line, p.column, p.severity])).toEqual([['prisma/migrations/migration_lock.toml', 3, 1, severity]]);
      expect(loaded.problems[0]?.message).toContain(provider === 'cockroachdb' ? 'CockroachDB' : `generated for ${provider}`);
      await writeFile(join(root, 'prisma/migrations/migration_lock.toml'), 'provider = "postgresql"\n');
      expect((await readMigrationFiles(root, 'prisma/migrations')).problems).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

async function sourceDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `rollout_copy_src_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(SOURCE_SQL);
  await client.end();
  return {
    url: url.toString(),
    drop: async () => {
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

async function oneValue(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return String((await client.query<{ rows: string }>(sql)).rows[0]?.rows);
  } finally {
    await client.end();
  }
}
