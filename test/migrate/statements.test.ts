import { describe, expect, it } from 'vitest';
import { firstCodeOffset, loadParser, parseSql, rawParser } from '../../actions/engine/migrate/statements.ts';

await loadParser();
const parse = (sql: string, version = 150_000) => parseSql('m.sql', sql, version);

describe('parseSql', () => {
  it.each([
    ['CREATE INDEX CONCURRENTLY i ON t (a);', 'CREATE INDEX CONCURRENTLY'],
    ['DROP INDEX CONCURRENTLY i;', 'DROP INDEX CONCURRENTLY'],
    ['REINDEX INDEX CONCURRENTLY i;', 'REINDEX CONCURRENTLY'],
    ['VACUUM t;', 'VACUUM'],
    ["ALTER SYSTEM SET work_mem = '8MB';", 'ALTER SYSTEM'],
    ['CREATE DATABASE d;', 'CREATE DATABASE'],
    ['DROP DATABASE d;', 'DROP DATABASE'],
    ['REINDEX (CONCURRENTLY) TABLE t;', 'REINDEX CONCURRENTLY'],
    ['REINDEX SYSTEM;', 'REINDEX SYSTEM/DATABASE'],
    ['REINDEX DATABASE;', 'REINDEX SYSTEM/DATABASE'],
    ['VACUUM ANALYZE t;', 'VACUUM'],
    ["CREATE TABLESPACE s LOCATION '/x';", 'CREATE TABLESPACE'],
    ['DROP TABLESPACE s;', 'DROP TABLESPACE'],
    ["CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;", 'CREATE SUBSCRIPTION'],
    ['DROP SUBSCRIPTION s;', 'DROP SUBSCRIPTION'],
    ['DISCARD ALL;', 'DISCARD ALL'],
  ])('runs %s outside a transaction', (sql, reason) => {
    expect(parse(`SELECT 1;\n${sql}`).parsed?.nonTransactional).toEqual([`${reason} at line 2`]);
  });

  it('keeps ordinary DDL, ANALYZE and (on Postgres 12+) ALTER TYPE ADD VALUE transactional', () => {
    const sql = "CREATE INDEX i ON t (a);\nANALYZE t;\nALTER TYPE mood ADD VALUE 'meh';\n-- CREATE INDEX CONCURRENTLY in a comment\nSELECT 'VACUUM';";
    expect(parse(sql).parsed?.nonTransactional).toEqual([]);
    expect(parse(sql, 110_000).parsed?.nonTransactional).toEqual(['ALTER TYPE … ADD VALUE (before Postgres 12) at line 3']);
  });

  it.each(['REINDEX TABLE t;', 'REINDEX (VERBOSE) INDEX i;', 'DISCARD PLANS;', 'DROP INDEX i;', 'DROP TABLE t;', "ALTER TYPE mood RENAME VALUE 'a' TO 'b';"])('keeps %s in the transaction', (sql) => {
    expect(parse(sql, 110_000).parsed?.nonTransactional).toEqual([]);
  });

  it('gives each reason the line of its statement\'s code, after comments and blank lines', () => {
    expect(parse('-- c\n\n/* x */ VACUUM;\nSELECT 1; /* a */ -- b\n VACUUM;').parsed?.nonTransactional).toEqual(['VACUUM at line 3', 'VACUUM at line 5']);
  });

  it('knows ALTER TYPE … ADD VALUE runs in a transaction from Postgres 12 on', () => {
    const sql = "ALTER TYPE mood ADD VALUE 'meh';";
    expect(parse(sql, 119_999).parsed?.nonTransactional).toEqual(['ALTER TYPE … ADD VALUE (before Postgres 12) at line 1']);
    expect(parse(sql, 120_000).parsed?.nonTransactional).toEqual([]);
  });

  it('names the extensions a file creates, at their statements', () => {
    const sql = 'CREATE EXTENSION IF NOT EXISTS pgcrypto;\n  /* c */ CREATE EXTENSION "uuid-ossp";\nDROP EXTENSION hstore;\nALTER EXTENSION hstore UPDATE;';
    expect(parse(sql).parsed?.extensions).toEqual([{ name: 'pgcrypto', offset: 0 }, { name: 'uuid-ossp', offset: sql.indexOf('CREATE EXTENSION "') }]);
  });

  it('finds the COMMIT that ends the file\'s own last transaction', () => {
    const at = (sql: string): number | undefined => parse(sql).parsed?.finalCommitAt;
    expect(at('BEGIN;\nSELECT 1;\n-- done\nCOMMIT;')).toBe(25);
    const twice = 'START TRANSACTION; SELECT 1; COMMIT; BEGIN; SELECT 2; COMMIT';
    expect(at(twice)).toBe(twice.lastIndexOf('COMMIT'));
    expect(at('BEGIN; COMMIT AND CHAIN; COMMIT;')).toBe(25);
    expect(at("SELECT 'é'; BEGIN; COMMIT;")).toBe(19);
    expect(at('START TRANSACTION; SELECT 1; COMMIT;')).toBe(29);
    const savepoints = 'BEGIN; SAVEPOINT a; RELEASE a; SAVEPOINT b; ROLLBACK TO b; COMMIT;';
    expect(at(savepoints)).toBe(savepoints.lastIndexOf('COMMIT'));
    for (const sql of ['SELECT 1;', 'COMMIT;', 'BEGIN; COMMIT; SELECT 1;', 'BEGIN; ROLLBACK;', 'BEGIN; COMMIT AND CHAIN;', "BEGIN; PREPARE TRANSACTION 'x';", "BEGIN; PREPARE TRANSACTION 'x'; COMMIT;", 'BEGIN; COMMIT; COMMIT;', 'BEGIN; ROLLBACK; COMMIT;']) {
      expect(at(sql), sql).toBeUndefined();
    }
  });

  it('reads an empty file (only comments) as no statements, and an empty text as an error', () => {
    expect(parse('-- only a comment\n').parsed).toEqual({ statements: [], nonTransactional: [], managesTransactions: false, extensions: [] });
    expect(parse('').problems.map((p) => [p.line, p.column, p.message])).toEqual([[1, 1, 'Syntax error: Query cannot be empty. Fix the SQL; nothing was run.']]);
  });

  it('notices files that manage their own transactions', () => {
    expect(parse('BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;').parsed?.managesTransactions).toBe(true);
    expect(parse('CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;').parsed?.managesTransactions).toBe(false);
  });

  it('splits an ASCII file into its statements, each with its own text and offset', () => {
    expect(parse('SELECT 1;\nSELECT 2;').parsed?.statements).toEqual([{ sql: 'SELECT 1', start: 0 }, { sql: 'SELECT 2', start: 10 }]);
  });

  it('splits statements with character offsets, also after multi-byte text', () => {
    const sql = "SELECT 'é';\nSELECT 2;";
    const statements = parse(sql).parsed!.statements;
    expect(statements.map((s) => s.sql.trim())).toEqual(["SELECT 'é'", 'SELECT 2']);
    expect(sql.slice(statements[1].start).trim()).toBe('SELECT 2;');
  });

  it('reports syntax errors with line and column', () => {
    expect(parse('SELECT 1;\n  CREAT TABLE x ();').problems[0]).toMatchObject({ file: 'm.sql', line: 2, column: 3, severity: 'error' });
  });

  it('reports a syntax error after non-ASCII text at its line and column, in characters', () => {
    expect(parse("-- créé à l'été 😀\nSELECT 'ça';\n  CREAT TABLE x ();")).toEqual({
      problems: [{ file: 'm.sql', line: 3, column: 3, severity: 'error', message: 'Syntax error: syntax error at or near "CREAT". Fix the SQL; nothing was run.' }],
    });
  });
});

describe('firstCodeOffset', () => {
  it('skips blanks, -- and /* */ comments to the first code', () => {
    const sql = 'SELECT 1;\n  -- one\n\t/* two */ /* three */\n-- four\nVACUUM;';
    expect(firstCodeOffset(sql, 9)).toBe(sql.indexOf('VACUUM'));
    expect(firstCodeOffset(sql, sql.indexOf('VACUUM'))).toBe(sql.indexOf('VACUUM'));
    expect(firstCodeOffset('a - b', 1)).toBe(2);
    expect(firstCodeOffset('a / b', 1)).toBe(2);
  });

  it('stops at an unterminated comment, and at the end of the text', () => {
    expect(firstCodeOffset('  -- no line break', 0)).toBe(2);
    expect(firstCodeOffset(' /* open', 0)).toBe(1);
    expect(firstCodeOffset('/**/x', 0)).toBe(4);
    expect(firstCodeOffset('/* a *//* b */ x', 0)).toBe(15);
    expect(firstCodeOffset('/*/ x */y', 0)).toBe(8);
    expect(firstCodeOffset('  \n ', 0)).toBe(4);
  });
});

describe('loadParser', () => {
  it('loads the parser once', async () => {
    expect(loadParser()).toBe(loadParser());
    await loadParser();
    expect(typeof rawParser()).toBe('function');
  });
});
