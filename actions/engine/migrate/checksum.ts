import { createHash } from 'node:crypto';

/**
 * Editors and Git (autocrlf) change line endings and trailing blanks without changing a
 * migration's meaning; the checksum ignores both so that only real edits are "changed".
 */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v]+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}

export function checksumSql(sql: string): string {
  return createHash('sha256').update(normalizeSql(sql)).digest('hex');
}
