import { describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../actions/engine/migrate/statements.ts';

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
  ])('runs %s outside a transaction', (sql, reason) => {
    expect(parse(`SELECT 1;\n${sql}`).parsed?.nonTransactional).toEqual([`${reason} at line 2`]);
  });

  it('keeps ordinary DDL, ANALYZE and (on Postgres 12+) ALTER TYPE ADD VALUE transactional', () => {
    const sql = "CREATE INDEX i ON t (a);\nANALYZE t;\nALTER TYPE mood ADD VALUE 'meh';\n-- CREATE INDEX CONCURRENTLY in a comment\nSELECT 'VACUUM';";
    expect(parse(sql).parsed?.nonTransactional).toEqual([]);
    expect(parse(sql, 110_000).parsed?.nonTransactional).toEqual(['ALTER TYPE … ADD VALUE (before Postgres 12) at line 3']);
  });

  it('notices files that manage their own transactions', () => {
    expect(parse('BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;').parsed?.managesTransactions).toBe(true);
    expect(parse('CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;').parsed?.managesTransactions).toBe(false);
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
