/**
 * Running migrations on one connection. Speed comes from the simple-query protocol and
 * few round trips and commits (each synchronous commit waits for a WAL flush, which is
 * most of what a migration of small DDL files costs):
 *
 * - a transactional file is ONE query and one commit:
 *     BEGIN; SET LOCAL timeouts; <file as written>; INSERT history row; COMMIT; RESET ALL
 *   so its history row commits atomically with it and a crash leaves either both or neither;
 * - a file with its own BEGIN/COMMIT ('script') is ONE query, sent as written after a
 *   'failed' marker row; when it ends with COMMIT, its history row is written just before
 *   that COMMIT, inside the file's own last transaction;
 * - a file that cannot run in a transaction ('statements') runs statement by statement,
 *   after the marker, and its row is turned into 'applied' at the end.
 *
 * The marker makes a crash part-way visible: it blocks the next run instead of the file
 * being silently re-run. It is committed with synchronous_commit off, which costs no WAL
 * flush and is still safe: WAL is flushed in order, so the marker is durable before any
 * effect of the file is (the file's first commit flushes it).
 *
 * With `flush: 'run'` (the default) the files themselves commit with synchronous_commit off
 * too, and the run ends with one commit that waits for the flush of everything before it.
 * Asynchronous commit never tears a transaction: a server crash during the run can only undo
 * whole files, newest first, each together with its history row, and the next run applies
 * them again. The run returns only after that flush (when a file fails, after flushing the
 * files ahead of it).
 */
import type pg from 'pg';
import type { MigrationFile } from './files.ts';
import type { Directives } from './directives.ts';
import type { CreatedExtension } from './extensions.ts';
import type { Execution } from './history.ts';
import { upsertRecordSql } from './history.ts';
import type { Statement } from './statements.ts';
import { firstCodeOffset } from './statements.ts';
import { loadParser, parseSql } from './statements.ts';
import { lineColumnAt } from './position.ts';
import { MigrationError, describePostgresError, isPostgresError, type PostgresErrorFields } from './migration-error.ts';
import { cleanupFailed } from '../cleanup.ts';

export interface PreparedMigration {
  file: MigrationFile;
  execution: Exclude<Execution, 'baseline' | 'adopted'>;
  /** Why it runs outside one transaction (empty for 'transaction'). */
  reasons: string[];
  /** The file's statements, from the parser; undefined when the pre-scan showed the file needs no parse (split on demand). */
  statements: Statement[] | undefined;
  directives: Directives;
  /** Its CREATE EXTENSION statements (found by the parser; the pre-scan sends every file that says EXTENSION to it). */
  extensions: CreatedExtension[];
  /** Offset of a final COMMIT that ends a transaction the file opened ('script' files): the history row goes just before it. */
  finalCommitAt?: number;
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
  /** Wait for the WAL flush once at the end of the run ('run') or at every commit ('file'). */
  flush: 'run' | 'file';
  /** Advice of the caller's for a failure, shown under Postgres's words (e.g. a setting the environment lacks). */
  advise?: (error: PostgresErrorFields) => string | undefined;
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
  const flush = options.flush === 'run';
  try {
    await runAll(client, migrations, options, applied);
  } catch (error) {
    // The files ahead of the failing one stay applied: make them durable before saying so.
    if (flush && applied.length > 0) await flushWal(client).catch(cleanupFailed('making the migrations applied before the failure durable (CHECKPOINT)'));
    throw error;
  }
  if (flush && applied.length > 0) await flushWal(client);
  return applied;
}

/**
 * A commit that waits for the WAL flush (under the session's own synchronous_commit, e.g.
 * remote_apply with a synchronous standby): WAL is flushed in order, so every earlier
 * asynchronous commit is durable when it returns. txid_current() makes the transaction
 * write a commit record; a transaction without one would not wait.
 */
async function flushWal(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT txid_current()');
}

async function runAll(client: pg.ClientBase, migrations: readonly PreparedMigration[], options: ExecuteOptions, applied: AppliedMigration[]): Promise<void> {
  const total = migrations.length;
  for (const [i, migration] of migrations.entries()) {
    const index = i + 1;
    options.onProgress?.({ kind: 'start', index, total, migration });
    const started = performance.now();
    try {
      if (migration.execution === 'transaction') await runInTransaction(client, migration, options);
      else if (migration.execution === 'script') await runScript(client, migration, options);
      else await runStatements(client, migration, options);
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
}

interface SessionSettings {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  checkClient: boolean;
  /** Commit without waiting for the flush (flush: 'run'; the run's last query waits for it). */
  asyncCommit: boolean;
  advise?: ExecuteOptions['advise'];
}

const sessionSettings = (migration: PreparedMigration, options: ExecuteOptions): SessionSettings => ({
  lockTimeoutMs: migration.directives.lockTimeoutMs ?? options.lockTimeoutMs,
  statementTimeoutMs: migration.directives.statementTimeoutMs ?? options.statementTimeoutMs,
  checkClient: options.serverVersion >= 140_000,
  asyncCommit: options.flush === 'run',
  ...(options.advise ? { advise: options.advise } : {}),
});

/**
 * The settings a migration runs under: its lock and statement timeouts;
 * client_connection_check_interval, which makes the server abort a migration whose process
 * was killed within a second, instead of finishing a long statement and holding the
 * environment lock until then; and synchronous_commit off under flush: 'run' (see the top).
 */
function setSessionSql(scope: 'LOCAL' | 'SESSION', t: SessionSettings): string {
  const check = t.checkClient ? ` SET ${scope} client_connection_check_interval = 1000;` : '';
  const commit = t.asyncCommit ? ` SET ${scope} synchronous_commit = off;` : '';
  return `SET ${scope} lock_timeout = ${t.lockTimeoutMs}; SET ${scope} statement_timeout = ${t.statementTimeoutMs};${check}${commit}`;
}

async function runInTransaction(client: pg.ClientBase, migration: PreparedMigration, options: ExecuteOptions): Promise<void> {
  const t = sessionSettings(migration, options);
  const prefix = `BEGIN; ${setSessionSql('LOCAL', t)}\n`;
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
    await client.query('ROLLBACK; RESET ALL').catch(cleanupFailed(`rolling back ${migration.file.path}`));
    if (!isPostgresError(error)) throw error;
    const offset = error.position ? Number(error.position) - 1 - prefix.length : undefined;
    const located = offset !== undefined && offset >= 0 && offset <= migration.file.sql.length ? offset : await locateFailingStatement(client, migration, t);
    throw failure(migration, located, error, t, 'The migration was rolled back');
  }
}

/** SQL that records the 'failed' marker and sets the session's timeouts, committed without a WAL flush (see the top of this file). */
function markerSql(migration: PreparedMigration, options: ExecuteOptions, t: SessionSettings): string {
  const marker = upsertRecordSql({
    ...recordBase(migration, options),
    status: 'failed',
    execution: migration.execution,
    durationSql: '0',
    error: 'started but did not finish (the process stopped)',
  });
  return `BEGIN; SET LOCAL synchronous_commit = off; ${marker}; ${setSessionSql('SESSION', t)} COMMIT;`;
}

/** Duration of the current simple query, in ms: statement_timestamp() is when the server received it. */
const QUERY_DURATION_SQL = '(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::integer';

/**
 * A file with its own BEGIN/COMMIT, as written, in one query: marker, file, history row.
 * Postgres parses the whole query before running any of it, so a syntax error runs nothing.
 */
async function runScript(client: pg.ClientBase, migration: PreparedMigration, options: ExecuteOptions): Promise<void> {
  const t = sessionSettings(migration, options);
  const base = recordBase(migration, options);
  const sql = migration.file.sql;
  const prefix = `${markerSql(migration, options, t)}\n`;
  const applied = upsertRecordSql({ ...base, status: 'applied', execution: 'script', durationSql: QUERY_DURATION_SQL });
  const at = migration.finalCommitAt;
  // Just before the file's final COMMIT: the row commits with the file's last transaction.
  const injected = at !== undefined ? `\n${applied};\n` : '';
  const body = at !== undefined ? sql.slice(0, at) + injected + sql.slice(at) : sql;
  const suffix = at !== undefined ? '\n;\nRESET ALL;' : `\n;\n${applied};\nRESET ALL;`;
  const started = performance.now();
  try {
    await client.query(prefix + body + suffix);
  } catch (error) {
    // The file's own transaction, if one was open, is aborted: end it before recording.
    await client.query('ROLLBACK').catch(cleanupFailed(`ending the transaction ${migration.file.path} opened`));
    if (!isPostgresError(error)) throw error;
    let offset = error.position ? Number(error.position) - 1 - prefix.length : undefined;
    if (offset !== undefined && at !== undefined && offset >= at) offset = offset >= at + injected.length ? offset - injected.length : at;
    if (offset === undefined || offset < 0 || offset > sql.length) offset = firstCodeOffset(sql, 0);
    const consequence = 'It ran as written, with its own transactions: those it committed before this statement stay applied, and the file is recorded as failed';
    const result = failure(migration, offset, error, t, consequence);
    await recordFailure(client, migration, options, performance.now() - started, `${migration.file.path}:${result.position.line}:${result.position.column}: ${error.message}`);
    throw result;
  }
}

/** A file that cannot run in a transaction: statement by statement, each in autocommit, after the marker. */
async function runStatements(client: pg.ClientBase, migration: PreparedMigration, options: ExecuteOptions): Promise<void> {
  const t = sessionSettings(migration, options);
  await client.query(markerSql(migration, options, t));
  const started = performance.now();
  for (const statement of await statementsOf(migration)) {
    try {
      await client.query(statement.sql);
    } catch (error) {
      // A transaction the file opened itself, if any, is aborted: end it before recording.
      await client.query('ROLLBACK').catch(cleanupFailed(`ending the transaction ${migration.file.path} opened`));
      if (!isPostgresError(error)) throw error;
      const offset = statement.start + (error.position ? Number(error.position) - 1 : firstCodeOffset(statement.sql, 0));
      const consequence = 'It ran outside a transaction: statements before this one stay applied, and the file is recorded as failed';
      const result = failure(migration, offset, error, t, consequence);
      await recordFailure(client, migration, options, performance.now() - started, `${migration.file.path}:${result.position.line}:${result.position.column}: ${error.message}`);
      throw result;
    }
  }
  await client.query(
    `${upsertRecordSql({ ...recordBase(migration, options), status: 'applied', execution: migration.execution, durationSql: String(Math.round(performance.now() - started)) })}; RESET ALL;`,
  );
}

async function recordFailure(client: pg.ClientBase, migration: PreparedMigration, options: ExecuteOptions, durationMs: number, message: string): Promise<void> {
  await client
    .query(`${upsertRecordSql({ ...recordBase(migration, options), status: 'failed', execution: migration.execution, durationSql: String(Math.round(durationMs)), error: message })}; RESET ALL;`)
    .catch(cleanupFailed(`recording ${migration.file.path} as failed in the migration history`));
}

/** The file's statements: from prepare, or parsed now (a file the pre-scan let through unparsed). */
async function statementsOf(migration: PreparedMigration): Promise<Statement[]> {
  if (migration.statements) return migration.statements;
  await loadParser();
  const { parsed } = parseSql(migration.file.path, migration.file.sql, Number.MAX_SAFE_INTEGER);
  migration.statements = parsed?.statements ?? [];
  return migration.statements;
}

/**
 * Postgres gives no position for errors found while executing (a unique violation, a
 * failed cast of existing rows). Replay the statements one by one in a transaction that
 * is always rolled back, to find which one fails; the timeouts bound the replay.
 */
async function locateFailingStatement(
  client: pg.ClientBase,
  migration: PreparedMigration,
  t: SessionSettings,
): Promise<number | undefined> {
  const statements = await statementsOf(migration);
  if (statements.length < 2) return statements[0] ? firstCodeOffset(migration.file.sql, statements[0].start) : undefined;
  try {
    await client.query(`BEGIN; ${setSessionSql('LOCAL', t)}`);
    for (const statement of statements) {
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
    await client.query('ROLLBACK; RESET ALL').catch(cleanupFailed('ending the statement check (ROLLBACK)'));
  }
}

function failure(
  migration: PreparedMigration,
  offset: number | undefined,
  error: Error & { code?: string; position?: string; detail?: string; hint?: string },
  t: SessionSettings,
  consequence: string,
): MigrationError {
  const position = lineColumnAt(migration.file.sql, offset ?? 0);
  const where = `${migration.file.path}:${position.line}:${position.column}`;
  const unknown = offset === undefined ? ' (Postgres did not say which statement)' : '';
  const advice = t.advise?.(error);
  return new MigrationError(migration.file.path, position, error.message, `${where}: ${describePostgresError(error, t)}${unknown}${advice ? `\n${advice}` : ''}\n${consequence}.`, {
    cause: error,
  });
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
  return { id: migration.file.id, version: migration.file.version, name: migration.file.name, checksum: migration.file.checksum, appliedBy: options.appliedBy, commit: options.commit };
}
