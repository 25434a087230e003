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
