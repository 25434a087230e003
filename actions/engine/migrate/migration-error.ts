import { UserError } from '../errors.ts';
import type { LineColumn } from './position.ts';

/** A migration Postgres refused: names the file, the line:column and Postgres's own words. */
export class MigrationError extends UserError {
  override readonly name = 'MigrationError';
  constructor(
    readonly file: string,
    readonly position: LineColumn,
    readonly postgresMessage: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The fields of a Postgres error we use (pg's DatabaseError has them all). */
export interface PostgresErrorFields {
  message: string;
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

export function isPostgresError(error: unknown): error is Error & PostgresErrorFields {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && 'severity' in error;
}

/** Postgres's message plus the advice that fits the SQLSTATE. */
export function describePostgresError(error: PostgresErrorFields, timeouts: { lockTimeoutMs: number; statementTimeoutMs: number }): string {
  const parts = [`${error.message}${error.code ? ` (SQLSTATE ${error.code})` : ''}`];
  if (error.detail) parts.push(`Detail: ${error.detail}`);
  if (error.hint) parts.push(`Hint: ${error.hint}`);
  if (error.code === '55P03') {
    parts.push(
      `Another session held a lock the migration needed for longer than lock_timeout (${timeouts.lockTimeoutMs} ms). Retry when traffic is lower, or raise it for this file with -- rollout:lock_timeout=30s.`,
    );
  } else if (error.code === '57014') {
    parts.push(`The file ran longer than statement_timeout (${timeouts.statementTimeoutMs} ms). Raise it for this file with -- rollout:statement_timeout=1h.`);
  }
  return parts.join('\n');
}
