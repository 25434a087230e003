/**
 * Running migrations on one connection. Speed comes from the simple-query protocol and
 * few round trips: a transactional file is ONE query string —
 *   BEGIN; SET LOCAL timeouts; <file as written>; INSERT history row; COMMIT; RESET ALL
 * — so its history row commits atomically with it and a crash leaves either both or neither.
 * Files that cannot run in a transaction run statement by statement, bracketed by a
 * 'failed' row written first and turned into 'applied' at the end, so that a crash
 * part-way is visible and blocks the next run instead of being silently re-run.
 */
import type pg from 'pg';
import type { MigrationFile } from './files.ts';
import type { Directives } from './directives.ts';
import type { Execution } from './history.ts';
import { upsertRecordSql } from './history.ts';
import type { Statement } from './statements.ts';
import { firstCodeOffset } from './statements.ts';
import { lineColumnAt } from './position.ts';
import { MigrationError, describePostgresError, isPostgresError } from './migration-error.ts';

export interface PreparedMigration {
  file: MigrationFile;
  execution: Exclude<Execution, 'baseline'>;
  /** Why it runs outside one transaction (empty for 'transaction'). */
  reasons: string[];
  statements: Statement[];
  directives: Directives;
}

export type ProgressEvent =
  | { kind: 'start'; index: number; total: number; migration: PreparedMigration }
  | { kind: 'done'; index: number; total: number; migration: PreparedMigration; durationMs: number }
  | { kind: 'failed'; index: number; total: number; migration: PreparedMigration; error: MigrationError };

export interface ExecuteOptions {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  appliedBy: string;
  commit: string | null;
  environment: string;
  /** server_version_num: Postgres 14+ can notice a vanished client mid-statement. */
  serverVersion: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface AppliedMigration {
  file: MigrationFile;
  execution: PreparedMigration['execution'];
  durationMs: number;
}

/** Run `migrations` in order; stop at the first failure (earlier ones stay applied) and throw a MigrationError. */
export async function executeMigrations(client: pg.ClientBase, migrations: readonly PreparedMigration[], options: ExecuteOptions): Promise<AppliedMigration[]> {
  const applied: AppliedMigration[] = [];
  const total = migrations.length;
  for (const [i, migration] of migrations.entries()) {
    const index = i + 1;
    options.onProgress?.({ kind: 'start', index, total, migration });
    const started = performance.now();
    try {
      if (migration.execution === 'transaction') await runInTransaction(client, migration, options);
      else await runOutsideTransaction(client, migration, options);
    } catch (error) {
      if (error instanceof MigrationError) {
        options.onProgress?.({ kind: 'failed', index, total, migration, error });
        throw withRunContext(error, applied.length, migration, options.environment);
      }
      throw error;
    }
    const durationMs = Math.round(performance.now() - started);
    applied.push({ file: migration.file, execution: migration.execution, durationMs });
    options.onProgress?.({ kind: 'done', index, total, migration, durationMs });
  }
  return applied;
}

interface Timeouts {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  checkClient: boolean;
}

const timeouts = (migration: PreparedMigration, options: ExecuteOptions): Timeouts => ({
  lockTimeoutMs: migration.directives.lockTimeoutMs ?? options.lockTimeoutMs,
  statementTimeoutMs: migration.directives.statementTimeoutMs ?? options.statementTimeoutMs,
  checkClient: options.serverVersion >= 140_000,
});

/**
 * client_connection_check_interval makes the server abort a migration whose process was
 * killed within a second, instead of finishing a long statement and holding the
 * environment lock until then.
 */
function setTimeoutsSql(scope: 'LOCAL' | 'SESSION', t: Timeouts): string {
  const check = t.checkClient ? ` SET ${scope} client_connection_check_interval = 1000;` : '';
  return `SET ${scope} lock_timeout = ${t.lockTimeoutMs}; SET ${scope} statement_timeout = ${t.statementTimeoutMs};${check}`;
}

async function runInTransaction(client: pg.ClientBase, migration: PreparedMigration, options: ExecuteOptions): Promise<void> {
  const t = timeouts(migration, options);
  const prefix = `BEGIN; ${setTimeoutsSql('LOCAL', t)}\n`;
  // The newline before ';' ends a trailing "-- comment" the file may finish with.
  const suffix =
    '\n;\n' +
    upsertRecordSql({
      ...recordBase(migration, options),
      status: 'applied',
      execution: 'transaction',
      durationSql: '(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer',
    }) +
    ';\nCOMMIT; RESET ALL;';
  try {
    await client.query(prefix + migration.file.sql + suffix);
  } catch (error) {
    await client.query('ROLLBACK; RESET ALL').catch(() => undefined);
    if (!isPostgresError(error)) throw error;
    const offset = error.position ? Number(error.position) - 1 - prefix.length : undefined;
    const located = offset !== undefined && offset >= 0 && offset <= migration.file.sql.length ? offset : await locateFailingStatement(client, migration, t);
    throw failure(migration, located, error, t, 'The migration was rolled back');
  }
}

async function runOutsideTransaction(client: pg.ClientBase, migration: PreparedMigration, options: ExecuteOptions): Promise<void> {
  const t = timeouts(migration, options);
  const base = recordBase(migration, options);
  await client.query(
    `${upsertRecordSql({ ...base, status: 'failed', execution: migration.execution, durationSql: '0', error: 'started but did not finish (the process stopped)' })}; ${setTimeoutsSql('SESSION', t)}`,
  );
  const started = performance.now();
  // A file with its own BEGIN/COMMIT and nothing non-transactional is sent whole, as written.
  const chunks = migration.execution === 'script' ? [{ sql: migration.file.sql, start: 0 }] : migration.statements;
  for (const chunk of chunks) {
    try {
      await client.query(chunk.sql);
    } catch (error) {
      // The file's own transaction, if one was open, is aborted: end it before recording.
      await client.query('ROLLBACK').catch(() => undefined);
      if (!isPostgresError(error)) throw error;
      const offset = chunk.start + (error.position ? Number(error.position) - 1 : firstCodeOffset(chunk.sql, 0));
      const consequence = 'It ran outside a transaction: statements before this one stay applied, and the file is recorded as failed';
      const result = failure(migration, offset, error, t, consequence);
      await client
        .query(`${upsertRecordSql({ ...base, status: 'failed', execution: migration.execution, durationSql: String(Math.round(performance.now() - started)), error: `${migration.file.path}:${result.position.line}:${result.position.column}: ${error.message}` })}; RESET ALL;`)
        .catch(() => undefined);
      throw result;
    }
  }
  await client.query(
    `${upsertRecordSql({ ...base, status: 'applied', execution: migration.execution, durationSql: String(Math.round(performance.now() - started)) })}; RESET ALL;`,
  );
}

/**
 * Postgres gives no position for errors found while executing (a unique violation, a
 * failed cast of existing rows). Replay the statements one by one in a transaction that
 * is always rolled back, to find which one fails; the timeouts bound the replay.
 */
async function locateFailingStatement(
  client: pg.ClientBase,
  migration: PreparedMigration,
  t: Timeouts,
): Promise<number | undefined> {
  if (migration.statements.length < 2) return migration.statements[0] ? firstCodeOffset(migration.file.sql, migration.statements[0].start) : undefined;
  try {
    await client.query(`BEGIN; ${setTimeoutsSql('LOCAL', t)}`);
    for (const statement of migration.statements) {
      try {
        await client.query(statement.sql);
      } catch (error) {
        const position = isPostgresError(error) && error.position ? Number(error.position) - 1 : undefined;
        return position !== undefined ? statement.start + position : firstCodeOffset(migration.file.sql, statement.start);
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await client.query('ROLLBACK; RESET ALL').catch(() => undefined);
  }
}

function failure(
  migration: PreparedMigration,
  offset: number | undefined,
  error: Error & { code?: string; position?: string; detail?: string; hint?: string },
  t: Timeouts,
  consequence: string,
): MigrationError {
  const position = lineColumnAt(migration.file.sql, offset ?? 0);
  const where = `${migration.file.path}:${position.line}:${position.column}`;
  const unknown = offset === undefined ? ' (Postgres did not say which statement)' : '';
  return new MigrationError(migration.file.path, position, error.message, `${where}: ${describePostgresError(error, t)}${unknown}\n${consequence}.`, { cause: error });
}

function withRunContext(error: MigrationError, appliedCount: number, migration: PreparedMigration, environment: string): MigrationError {
  const earlier = appliedCount > 0 ? ` ${appliedCount} earlier migration(s) of this run stay applied.` : '';
  const next =
    migration.execution === 'transaction'
      ? ` Fix ${migration.file.path} and run apply again.`
      : ` Make it safe to re-run (or repair the database by hand), then run \`rollout migrate apply --env ${environment} --retry-failed\`.`;
  return new MigrationError(error.file, error.position, error.postgresMessage, error.message + earlier + next, { cause: error.cause });
}

function recordBase(migration: PreparedMigration, options: ExecuteOptions) {
  return { version: migration.file.version, name: migration.file.name, checksum: migration.file.checksum, appliedBy: options.appliedBy, commit: options.commit };
}
