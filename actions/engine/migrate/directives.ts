/**
 * Per-file directives, written as SQL comments so the file stays plain SQL:
 *   -- rollout:transaction=off        run outside a transaction, statement by statement
 *   -- rollout:transaction=on         force one transaction even if the parser would not
 *   -- rollout:lock_timeout=10s       override the environment's lock_timeout for this file
 *   -- rollout:statement_timeout=1h   override statement_timeout ("0" disables it)
 * dbmate's own `-- migrate:up transaction:false` means rollout:transaction=off, so a dbmate
 * history runs as dbmate runs it (an explicit rollout:transaction wins); so do sql-migrate's
 * `-- +migrate Up notransaction` and goose's `-- +goose NO TRANSACTION`.
 */
import type { Problem } from '../problems.ts';
import { parseDuration } from '../config/duration.ts';

export interface Directives {
  transaction?: boolean;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
}

// A value never holds `--`: what follows it is a comment of its own (`-- rollout:transaction=off  -- why`), as docs/migrations.md writes them.
const DIRECTIVE = /^\s*--\s*rollout:([A-Za-z_]+)\s*=\s*(.*?)\s*(?:--.*)?$/;
const DBMATE_NO_TRANSACTION = /^--\s*migrate:up\b.*\btransaction:false\b/m;
/** sql-migrate's `-- +migrate Up notransaction` and goose's `-- +goose NO TRANSACTION`. */
const GO_NO_TRANSACTION = /^\s*--\s*\+(?:migrate\s+up\b.*\bnotransaction\b|goose\s+no\s+transaction\b)/im;

export function parseDirectives(path: string, sql: string): { directives: Directives; problems: Problem[] } {
  const directives: Directives = {};
  const problems: Problem[] = [];
  const lines = sql.split(/\r?\n/);
  lines.forEach((text, index) => {
    if (!text.includes('rollout:')) return;
    const match = DIRECTIVE.exec(text);
    if (!match) return;
    const [, key, value] = match as unknown as [string, string, string];
    const problem = (message: string): void => {
      problems.push({ file: path, line: index + 1, column: text.indexOf('rollout:') + 1, severity: 'error', message });
    };
    switch (key) {
      case 'transaction':
        if (value === 'on' || value === 'off') directives.transaction = value === 'on';
        else problem(`Invalid rollout:transaction '${value}'. Expected on or off.`);
        break;
      case 'lock_timeout':
      case 'statement_timeout': {
        const ms = value === '0' ? 0 : parseDuration(value);
        if (ms === undefined) problem(`Invalid rollout:${key} '${value}'. Expected a duration such as 500ms, 10s, 5min or 1h, or 0 for none.`);
        else if (key === 'lock_timeout') directives.lockTimeoutMs = ms;
        else directives.statementTimeoutMs = ms;
        break;
      }
      default:
        problem(`Unknown directive 'rollout:${key}'. Expected rollout:transaction, rollout:lock_timeout or rollout:statement_timeout.`);
    }
  });
  if (directives.transaction === undefined && (DBMATE_NO_TRANSACTION.test(sql) || GO_NO_TRANSACTION.test(sql))) directives.transaction = false;
  return { directives, problems };
}
