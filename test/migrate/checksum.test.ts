import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checksumSql, normalizeSql } from '../../actions/engine/migrate/checksum.ts';

describe('normalizeSql', () => {
  it('makes CRLF and lone CR line breaks LF', () => {
    expect(normalizeSql('SELECT 1;\r\nSELECT 2;\rSELECT 3;\n\r\nSELECT 4;')).toBe('SELECT 1;\nSELECT 2;\nSELECT 3;\n\nSELECT 4;');
  });

  it('drops blanks at the end of every line and blank lines at the end of the file, nothing else', () => {
    expect(normalizeSql('  SELECT\t1 ;  \t\n\n  FROM t;\f\v \n\n\n')).toBe('  SELECT\t1 ;\n\n  FROM t;');
    expect(normalizeSql('\n\nSELECT 1;')).toBe('\n\nSELECT 1;');
  });
});

describe('checksumSql', () => {
  it('is the SHA-256 of the normalised text, in hex', () => {
    expect(checksumSql('SELECT 1;  \r\n\r\n')).toBe(createHash('sha256').update('SELECT 1;').digest('hex'));
    expect(checksumSql('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('sees every real edit, and no change of line endings or trailing blanks', () => {
    const base = checksumSql('CREATE TABLE t (\n  id int\n);\n');
    expect(checksumSql('CREATE TABLE t (\r\n  id int   \r\n);')).toBe(base);
    for (const edited of ['CREATE TABLE t (\n  id bigint\n);\n', 'CREATE TABLE t (\n id int\n);\n', 'CREATE TABLE t (\n\n  id int\n);\n', 'CREATE TABLE t (  id int\n);\n']) {
      expect(checksumSql(edited), edited).not.toBe(base);
    }
  });
});
