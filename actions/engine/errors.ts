import type { Problem } from './problems.ts';

/**
 * Typed errors the adapters branch on. A `UserError` is the user's to fix and is
 * printed without a stack; anything else is an internal error and says so.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Wrong command-line usage (exit code 2). */
export class UsageError extends UserError {
  override readonly name = 'UsageError';
  override readonly exitCode = 2;
}

/** Problems in the repository's files, each with a position. */
export class ValidationError extends UserError {
  override readonly name = 'ValidationError';
  constructor(readonly problems: Problem[]) {
    super(`${problems.length} problem(s) in the repository's files`);
  }
}

/** Another process holds the per-environment lock. */
export class LockTimeoutError extends UserError {
  override readonly name = 'LockTimeoutError';
}

/** The database could not be reached or refused the session. */
export class DatabaseError extends UserError {
  override readonly name = 'DatabaseError';
}

/** Normalise anything thrown into an Error, once, at the edge. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

/**
 * A server's refusal that is the user's to fix, as a UserError that says how: a missing
 * privilege (42501), or a session that cannot write (25006: a read-only role's URL, or a
 * standby) reaching a command that writes. Undefined for anything else.
 */
export function databaseRefusal(thrown: unknown): UserError | undefined {
  const code = (thrown as { code?: unknown } | null)?.code;
  if (code !== '42501' && code !== '25006') return undefined;
  const message = toError(thrown).message;
  if (code === '42501') {
    return new UserError(
      `${message}. The database role this command connects as lacks a privilege: grant it ` +
        '(for a read-only role: GRANT USAGE ON SCHEMA rollout TO <role>; GRANT SELECT ON ALL TABLES IN SCHEMA rollout TO <role>), or use a URL whose role has it.',
      { cause: thrown },
    );
  }
  return new UserError(
    `the database refused a write: ${message}. This command writes (apply, kill, migrate, import), but its URL connects as a read-only role ` +
      "(default_transaction_read_only) or to a standby. Point the environment's url_env at the primary's URL of a role that may write; readonly_url_env is the one for plan, status and checks.",
    { cause: thrown },
  );
}
