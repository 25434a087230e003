/** The shared database layer: one `pg` code path for the embedded database and real servers. */
export type { Database, OpenDatabaseOptions } from './database.ts';
export { openDatabase } from './open.ts';
export { redactUrl, scrubSecret } from './redact.ts';
export { withTransaction } from './transaction.ts';
export { lockEnvironment, environmentLockKey, lockFlagWrites, flagWriteLockKey, FLAG_LOCK_TIMEOUT_MS, type LockSettings } from './advisory-lock.ts';
export { LOCK_FILE_NAME } from './data-dir-lock.ts';
