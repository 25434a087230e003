/**
 * Syntax-check many files in one round trip, with the server's own grammar, running none
 * of them. Postgres parses a whole simple-query string before it executes the first
 * statement, so a string that starts with a statement that always fails —
 *   DO … RAISE …; <file 1>\n;\n<file 2>\n;\n…
 * — is either rejected with the first syntax error (and its position), or fails on the
 * first statement with our own message: then every file parsed and nothing ran.
 *
 * Files must be lexically closed (no unterminated string, comment or dollar quote), or one
 * would swallow the next: the pre-scan sends those to libpg-query instead.
 *
 * Inside a transaction (a plan's read-only snapshot), the failing statement would abort it:
 * `keepTransaction` puts each round trip under a savepoint and rolls back to it, so that the
 * transaction goes on as if nothing had been sent. Nothing else may use the client meanwhile
 * (its queries would run in the aborted savepoint and fail).
 */
import type pg from 'pg';
import type { Problem } from '../problems.ts';
import type { MigrationFile } from './files.ts';
import { isPostgresError } from './migration-error.ts';
import { lineColumnAt } from './position.ts';

const SENTINEL = 'rollout: syntax check passed, nothing ran';
const HEAD = `DO $rollout_syntax_check$ BEGIN RAISE EXCEPTION '${SENTINEL}'; END $rollout_syntax_check$;\n`;
const SEPARATOR = '\n;\n';

export interface SyntaxCheck {
  /** One problem per file with a syntax error. */
  problems: Problem[];
  /** Files the server could not check (an error without a position): the caller parses them itself. */
  unchecked: MigrationFile[];
}

/** Keep each query string reasonably small. */
const MAX_BATCH_CHARS = 4 * 1024 * 1024;

const SAVEPOINT = 'rollout_syntax_check';

export async function checkSyntax(client: pg.ClientBase, files: readonly MigrationFile[], options: { keepTransaction?: boolean } = {}): Promise<SyntaxCheck> {
  if (files.length === 0) return { problems: [], unchecked: [] };
  if (!options.keepTransaction || !(await startSavepoint(client))) return checkBatches((sql) => rejectionOf(client.query(sql)), files);
  try {
    return await checkBatches(async (sql) => {
      const error = await rejectionOf(client.query(sql));
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
      return error;
    }, files);
  } finally {
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  }
}

/**
 * Whether the client is in a transaction, which now has the savepoint. Outside one (the plan
 * that apply computes runs in autocommit) SAVEPOINT fails with no_active_sql_transaction,
 * harmlessly, and there is no transaction to keep.
 */
async function startSavepoint(client: pg.ClientBase): Promise<boolean> {
  try {
    await client.query(`SAVEPOINT ${SAVEPOINT}`);
    return true;
  } catch (error) {
    if (isPostgresError(error) && error.code === '25P01') return false;
    throw error;
  }
}

async function checkBatches(run: (sql: string) => Promise<unknown>, files: readonly MigrationFile[]): Promise<SyntaxCheck> {
  const problems: Problem[] = [];
  let rest = files;
  // Each round trip reports the first error; go on after it, so that several are reported at once.
  while (rest.length > 0) {
    const starts: number[] = [];
    let sql = HEAD;
    for (const file of rest) {
      if (starts.length > 0 && sql.length + file.sql.length > MAX_BATCH_CHARS) break;
      starts.push(sql.length);
      sql += file.sql + SEPARATOR;
    }
    const batch = rest.slice(0, starts.length);
    const error = await run(sql);
    if (!isPostgresError(error) || (error.message !== SENTINEL && !error.position)) return { problems, unchecked: [...rest] };
    if (error.message === SENTINEL) {
      rest = rest.slice(batch.length);
      continue;
    }
    const position = Number(error.position) - 1;
    if (position < HEAD.length) return { problems, unchecked: [...rest] };
    // The last file that starts at or before the position (an error in a separator belongs to the file before it).
    let index = starts.length - 1;
    while (index > 0 && starts[index] > position) index -= 1;
    const file = batch[index];
    const at = lineColumnAt(file.sql, Math.min(position - starts[index], file.sql.length));
    problems.push({ file: file.path, ...at, severity: 'error', message: `Syntax error: ${error.message}. Fix the SQL; nothing was run.` });
    rest = rest.slice(index + 1);
  }
  return { problems, unchecked: [] };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return new Error('the syntax check ran to the end; expected its first statement to fail');
}
