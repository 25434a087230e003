import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { prescanSql } from '../../actions/engine/migrate/prescan.ts';
import { loadParser, parseSql } from '../../actions/engine/migrate/statements.ts';
import { generateHistory, sqlText } from '../../bench/migrate/generate.ts';
import { generateRealShapedHistory } from '../../bench/migrate/real-shaped.ts';
import { classifyLexically } from '../../actions/engine/migrate/lexical-classify.ts';

await loadParser();
const needsParser = (sql: string): boolean => prescanSql(sql).parserNeeded.length > 0;

/** What the authority (libpg-query) says: does the file need anything but one plain transaction? */
function parserVerdict(sql: string): 'special' | 'plain' | 'syntax error' {
  const { parsed } = parseSql('m.sql', sql, 150_000);
  if (!parsed) return 'syntax error';
  return parsed.nonTransactional.length > 0 || parsed.managesTransactions ? 'special' : 'plain';
}

describe('prescanSql', () => {
  it.each([
    'CREATE INDEX CONCURRENTLY i ON t (a);',
    'create index concurrently i on t (a);',
    'DROP INDEX CONCURRENTLY i;',
    'REINDEX TABLE t;',
    'VACUUM t;',
    'vacuum;',
    "ALTER SYSTEM SET work_mem = '8MB';",
    'CREATE DATABASE d;',
    'DROP TABLESPACE s;',
    "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
    'DISCARD ALL;',
    'BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;',
    'SELECT 1;\n  -- then\n  start transaction;',
    'SELECT 1; END;',
    'SELECT 1;/* c */ROLLBACK;',
    'SAVEPOINT a;',
    "PREPARE TRANSACTION 'x';",
    'ABORT;',
    'SELECT 1; RELEASE a;',
    // The parser, not the pre-scan, reports what the pre-scan cannot follow.
    "SELECT 'unterminated;",
    'SELECT $$ unterminated;',
    'SELECT 1 /* unterminated /* nested */;',
    'SELECT "unterminated;',
  ])('sends %j to the parser', (sql) => {
    expect(needsParser(sql)).toBe(true);
  });

  it.each([
    'CREATE TABLE t (id bigserial PRIMARY KEY, name text NOT NULL);',
    "SELECT CASE WHEN a THEN 'x' ELSE 'y' END FROM t;",
    'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  COMMIT;\n  VACUUM;\nEND;\n$$;',
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; END $body$;',
    "-- CREATE INDEX CONCURRENTLY in a comment\nSELECT 'VACUUM';",
    '/* BEGIN; /* nested VACUUM */ still a comment: CONCURRENTLY */ SELECT 1;',
    "SELECT E'it\\'s; BEGIN; VACUUM';",
    "SELECT 'it''s; COMMIT';",
    'SELECT "VACUUM", "begin" FROM "Concurrently";',
    "SELECT U&'d\\0061t\\+000061 VACUUM', N'COMMIT', B'101', X'1F';",
    'SELECT a$concurrently$ FROM t;',
    'CREATE SEQUENCE s START WITH 1;',
    'CREATE TEMP TABLE x (a int) ON COMMIT DROP;',
    'SELECT $1::text;',
    "ALTER TYPE mood ADD VALUE 'meh';",
  ])('classifies %j without the parser', (sql) => {
    expect(needsParser(sql)).toBe(false);
    expect(parserVerdict(sql)).not.toBe('special');
  });

  it('agrees with libpg-query on every file of the benchmark history', () => {
    for (const migration of generateHistory(1000)) {
      const sql = sqlText(migration);
      const verdict = parserVerdict(sql);
      if (verdict === 'special') expect(needsParser(sql), sql).toBe(true);
      expect(needsParser(sql), sql).toBe(migration.nonTransactional || migration.ownTransaction);
    }
  });

  it('never lets a file the parser finds special skip the parser (random SQL from tricky pieces)', () => {
    const piece = fc.constantFrom(
      'CREATE INDEX CONCURRENTLY i ON t (a)', 'VACUUM t', 'REINDEX TABLE t', 'BEGIN', 'COMMIT', 'END', 'START TRANSACTION', 'ROLLBACK',
      'SAVEPOINT s', 'RELEASE s', 'DISCARD ALL', "ALTER SYSTEM SET work_mem = '1MB'", 'SELECT 1', 'CREATE TABLE t (a int)',
      "SELECT 'x;'", "SELECT 'it''s'", "SELECT E'\\''", "SELECT E'\\\\'", 'SELECT $$;$$', 'SELECT $a$ $$ ; $a$', 'SELECT "a;""b"',
      "SELECT U&'x'", 'SELECT a$b$', 'SELECT $1', 'SELECT 1$$x$$', 'SELECT CASE WHEN true THEN 1 END',
      'DO $$ BEGIN PERFORM 1; END $$', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END',
    );
    // Mostly statement separators (so that most samples parse), sometimes a stray quote or comment mark.
    const glue = fc.oneof(
      { arbitrary: fc.constantFrom(';', ';\n', '; -- c;\n', ';/* ; */ ', ';/* /* ; */ */\n'), weight: 8 },
      { arbitrary: fc.constantFrom(' ', "'", '$$', '"', 'E', '--', '/*', '*/', '(', ')'), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(piece, glue), { maxLength: 8 }), (parts) => {
        const sql = parts.map(([p, g]) => p + g).join('');
        if (parserVerdict(sql) === 'special') expect(needsParser(sql), sql).toBe(true);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});

/** Where the lexer answers, its answer is the parser's: the same statements, transaction handling and reasons. */
function expectLexicalAgrees(sql: string): boolean {
  const lexical = classifyLexically(sql);
  if (!lexical) return false;
  const { parsed } = parseSql('m.sql', sql, 150_000);
  expect(parsed, sql).toBeDefined();
  const { extensions: _ignored, ...parser } = parsed!;
  const { extensions: _none, ...ours } = lexical;
  expect(ours, sql).toEqual(parser);
  return true;
}

describe('classifyLexically', () => {
  it.each([
    'CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "b" ON "t"("y");\n-- trailing comment\n',
    'DROP INDEX CONCURRENTLY IF EXISTS a;',
    'BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;\n',
    'begin work;\nselect 1;\nend;\nBEGIN; SELECT 2; ROLLBACK;',
    'START TRANSACTION;\nSELECT 1;\nCOMMIT TRANSACTION',
    "BEGIN;\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\nCOMMIT;",
    'CREATE INDEX CONCURRENTLY a ON t (x);\nBEGIN;\nSELECT 1;\nCOMMIT;',
    'CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);\nCREATE INDEX CONCURRENTLY a ON t (x);',
    'BEGIN TRANSACTION; SELECT 1; END WORK;',
    'BEGIN; SELECT 1; ABORT;',
    'BEGIN WORK; SELECT 1; ROLLBACK TRANSACTION;',
    'BEGIN; SELECT 1; COMMIT WORK',
    'CREATE TABLE t (); COMMIT;',
    'BEGIN; COMMIT; SELECT 1;',
    'BEGIN; SELECT 1; ROLLBACK;',
    'DROP INDEX CONCURRENTLY a, b;',
    'CREATE UNIQUE INDEX CONCURRENTLY a ON t (x);\n  -- then\n  DROP INDEX CONCURRENTLY b;',
  ])('classifies %j as the parser does', (sql) => {
    expect(expectLexicalAgrees(sql)).toBe(true);
  });

  it.each([
    'REINDEX TABLE CONCURRENTLY t;',
    'REFRESH MATERIALIZED VIEW CONCURRENTLY v;',
    'ALTER TABLE p DETACH PARTITION c CONCURRENTLY;',
    'BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; COMMIT;',
    'BEGIN; SAVEPOINT a; COMMIT;',
    'COMMIT AND CHAIN;',
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;',
    'CREATE EXTENSION pgcrypto; CREATE INDEX CONCURRENTLY a ON t (x);',
    'VACUUM t;',
    'START TRANSACTION READ ONLY; SELECT 1; COMMIT;',
    'BEGIN WORK READ ONLY; SELECT 1; COMMIT;',
    'BEGIN; SELECT 1; COMMIT AND NO CHAIN;',
    'BEGIN; SELECT 1; END AND CHAIN;',
    'BEGIN; SAVEPOINT a; ROLLBACK TO a; COMMIT;',
    'BEGIN; SELECT 1; ROLLBACK AND CHAIN;',
    'BEGIN; SELECT 1; ABORT AND CHAIN;',
    "COMMIT PREPARED 'x';",
    'START;',
    'CREATE INDEX i ON t (a); ALTER INDEX CONCURRENTLY i;',
    'CREATE UNIQUE CONCURRENTLY i;',
    'DROP TABLE CONCURRENTLY t;',
    'CREATE INDEX i ON t (concurrently(a));',
    'CREATE UNIQUE INDEX i ON t (concurrently(a));',
  ])('leaves %j to the parser', (sql) => {
    expect(classifyLexically(sql)).toBeUndefined();
  });

  it('agrees with the parser on every file of the benchmark histories it classifies, and spares the parser for most flagged files', () => {
    let flagged = 0;
    let answered = 0;
    const texts = [...generateHistory(1000).map(sqlText), ...generateRealShapedHistory(800).map((m) => m.sql)];
    for (const sql of texts) {
      if (!needsParser(sql)) continue;
      flagged += 1;
      if (expectLexicalAgrees(sql)) answered += 1;
    }
    expect(flagged).toBeGreaterThan(150);
    expect(answered).toBe(flagged);
  });

  it('agrees with the parser whenever it answers (random SQL from tricky pieces)', () => {
    const piece = fc.constantFrom(
      'CREATE INDEX CONCURRENTLY i ON t (a)', 'CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)', 'DROP INDEX CONCURRENTLY i', 'REINDEX TABLE CONCURRENTLY t',
      'BEGIN', 'BEGIN WORK', 'COMMIT', 'END', 'START TRANSACTION', 'ROLLBACK', 'ABORT', 'COMMIT AND CHAIN', 'SAVEPOINT s',
      'SELECT 1', 'CREATE TABLE t (a int)', "SELECT 'x;'", 'SELECT $$;$$', 'SELECT "a;""b"', 'SELECT CASE WHEN true THEN 1 END',
      'DO $$ BEGIN PERFORM 1; END $$', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END',
      'CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)', 'SELECT (1', 'SELECT 1)',
    );
    const glue = fc.oneof(
      { arbitrary: fc.constantFrom(';', ';\n', '; -- c;\n', ';/* ; */ ', '\n;\n'), weight: 8 },
      { arbitrary: fc.constantFrom(' ', "'", '$$', '"', '--', '/*', '(', ')'), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(piece, glue), { maxLength: 8 }), (parts) => {
        const sql = parts.map(([p, g]) => p + g).join('');
        const lexical = classifyLexically(sql);
        if (!lexical) return;
        const { parsed } = parseSql('m.sql', sql, 150_000);
        // A file the parser rejects is rejected by the server's syntax check instead; where both read it, they agree.
        if (!parsed) return;
        const { extensions: _a, ...parser } = parsed;
        const { extensions: _b, ...ours } = lexical;
        expect(ours, sql).toEqual(parser);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});

describe('prescanSql: what it reports', () => {
  const reasons = (sql: string): string[] => prescanSql(sql).parserNeeded;

  it('names each keyword found once, upper-cased, in the order found', () => {
    expect(reasons('vacuum; Vacuum t; CREATE INDEX CONCURRENTLY i ON t (a);\nbegin;')).toEqual(['VACUUM', 'CONCURRENTLY', 'BEGIN']);
    expect(reasons('CREATE TABLE t (a int);')).toEqual([]);
  });

  it.each([
    ["VACUUM; SELECT 'x", ['VACUUM', 'unterminated string']],
    ['SELECT "x', ['unterminated quoted identifier']],
    ['SELECT $a$ x $b$', ['unterminated $a$ string']],
    ['SELECT 1 /* x', ['unterminated /* comment']],
    ["SELECT E'x\\'", ['unterminated string']],
    ["SELECT b'01", ['unterminated string']],
    ["SELECT U&'x", ['unterminated string']],
    ['SELECT u&"x', ['unterminated quoted identifier']],
  ])('says what it could not follow to the end in %j', (sql, expected) => {
    expect(reasons(sql)).toEqual(expected);
  });

  it.each([
    "SELECT 'x' END", 'SELECT "x" END', 'SELECT $1 END', 'SELECT $$x$$ END', "SELECT E'x' END", "SELECT N'x' END", "SELECT U&'x' END",
    'SELECT U&"x" END', 'SELECT 1 END', 'SELECT 1.5 END', 'SELECT x END', 'SELECT a $ END', 'SELECT (1) END',
  ])('takes a transaction keyword after a token for a word, not a statement: %j', (sql) => {
    expect(reasons(sql)).toEqual([]);
  });

  it('takes a transaction keyword after a semicolon and comments for a statement', () => {
    expect(reasons('SELECT 1; -- c\nEND')).toEqual(['END']);
    expect(reasons('SELECT 1;\n/* c */\n  commit')).toEqual(['COMMIT']);
    expect(reasons('  Begin')).toEqual(['BEGIN']);
  });

  it.each([
    ['a -- comment ends at a carriage return', 'SELECT 1; -- c\rVACUUM t', ['VACUUM']],
    ['a standard string has no backslash escapes', "SELECT 'a\\' VACUUM 'b'", ['VACUUM']],
    ['an E string has backslash escapes', "SELECT E'a\\' VACUUM', 1", []],
    ['a doubled quote inside a quoted identifier', 'SELECT "a""VACUUM" FROM t', []],
    ['a dollar tag with digits and underscores', 'SELECT $_a1$ VACUUM $ $_a1$', []],
    ['a dollar tag ends at its second $', 'SELECT $a$b$ VACUUM $a$', []],
    ['a parameter with trailing letters', 'SELECT $1vacuum', []],
    ['a number with trailing letters', 'SELECT 1vacuum, 2.5e3concurrently', []],
    ['an identifier with non-ASCII letters', 'SELECT évacuum FROM t', []],
    ['an identifier with digits and $', 'SELECT x1vacuum, a$vacuum FROM t', []],
    ['a keyword after a nested comment', '/* a /* b */ c */ VACUUM', ['VACUUM']],
    ['a keyword after a lone *', 'SELECT 2*3; VACUUM', ['VACUUM']],
    ['a keyword after a lone /', 'SELECT 2/3; VACUUM', ['VACUUM']],
    ['a keyword after a lone -', 'SELECT 2-3; VACUUM', ['VACUUM']],
    ['an N string has no backslash escapes', "SELECT N'a\\' VACUUM 'b'", ['VACUUM']],
    ['a letter before a string that is no string prefix', "SELECT a'x\\' VACUUM 'y'", ['VACUUM']],
    ['an identifier u& that is not followed by a quote', 'SELECT u&b VACUUM', ['VACUUM']],
    ['blanks: tab, line feed, vertical tab, form feed, carriage return', 'SELECT 1;\tbegin;\nend;\vcommit;\fabort;\rrollback', ['BEGIN', 'END', 'COMMIT', 'ABORT', 'ROLLBACK']],
    ['a control character is no blank', 'SELECT 1;\u0008begin', []],
    ['identifiers starting with Z, z, _ or U+0080', 'SELECT Zvacuum, zvacuum, _vacuum, \u0080vacuum', []],
    ['numbers starting with 0 or 9', 'SELECT 0vacuum, 9vacuum', []],
    ['a * inside a comment', '/* 2*3 */ VACUUM', ['VACUUM']],
    ['a / inside a comment', '/* a/ VACUUM */ SELECT 1', []],
    ['a quoted identifier has no backslash escapes', 'SELECT "a\\" VACUUM "b"', ['VACUUM']],
    ['a parameter with trailing $ and letters', 'SELECT $1$a$ VACUUM', ['VACUUM']],
    ['a doubled quote and a backslash escape in one E string', "SELECT E'a''\\' VACUUM'", []],
  ])('follows %s', (_case, sql, expected) => {
    expect(reasons(sql)).toEqual(expected);
  });
});

describe('prescanSql: statements', () => {
  const statements = (sql: string) => prescanSql(sql, { statements: true }).statements;

  it('delimits statements at top-level semicolons, with where their code starts and their first four words', () => {
    const sql = '-- head\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\n\nCREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);\n  select 1';
    expect(statements(sql)).toEqual([
      { start: 0, end: sql.indexOf(';') + 1, terminated: true, codeStart: sql.indexOf('CREATE'), words: ['CREATE', 'UNIQUE', 'INDEX', 'CONCURRENTLY'], concurrently: true },
      { start: sql.indexOf(';') + 1, end: sql.lastIndexOf(');') + 2, terminated: true, codeStart: sql.indexOf('CREATE RULE'), words: ['CREATE', 'RULE', 'R', 'AS'], concurrently: false },
      { start: sql.lastIndexOf(');') + 2, end: sql.length, terminated: false, codeStart: sql.indexOf('select'), words: ['SELECT'], concurrently: false },
    ]);
  });

  it('skips empty statements and a tail of comments, and keeps long words', () => {
    const sql = ';;\nDROP INDEX CONCURRENTLY a_very_long_index_name;\n-- the end\n';
    expect(statements(sql)).toEqual([
      { start: 2, end: sql.indexOf('name;') + 5, terminated: true, codeStart: sql.indexOf('DROP'), words: ['DROP', 'INDEX', 'CONCURRENTLY', 'A_VERY_LONG_INDEX_NAME'], concurrently: true },
    ]);
  });

  it('counts string prefixes as part of the string, not as words', () => {
    expect(statements("SELECT B'1', X'F', N'x', E'y', U&'z', U&\"w\" FROM t")?.map((s) => s.words)).toEqual([['SELECT', 'FROM', 'T']]);
  });

  it('keeps the first four words, long ones included, and no fifth', () => {
    expect(statements('DROP INDEX CONCURRENTLY a, a_very_long_index_name;')?.map((s) => s.words)).toEqual([['DROP', 'INDEX', 'CONCURRENTLY', 'A']]);
  });

  it('starts a statement at its first token of any kind', () => {
    for (const sql of ["'x';", '"x";', '$1;', '$$x$$;', "E'x';", "U&'x';", '1;', '(1);', '$;', '-1;']) {
      expect(statements(`  ${sql}`)?.map((s) => s.codeStart), sql).toEqual([2]);
    }
  });

  it('says when it saw ATOMIC, and gives no statements when it could not read to the end', () => {
    expect(prescanSql('CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;', { statements: true }).atomic).toBe(true);
    expect(prescanSql('SELECT 1;', { statements: true })).toEqual({ parserNeeded: [], statements: [expect.objectContaining({ words: ['SELECT'] })], atomic: false });
    expect(prescanSql("SELECT 1; SELECT 'x", { statements: true })).toEqual({ parserNeeded: ['unterminated string'] });
    expect(prescanSql('SELECT 1;')).toEqual({ parserNeeded: [] });
  });
});
