/**
 * The migration history, in the tool's own schema so that it never collides with the
 * application's tables. One row per version; a non-transactional file that did not finish
 * keeps a 'failed' row until it is retried.
 */
import type pg from 'pg';

export const HISTORY_TABLE = 'rollout.schema_migrations';

/** How a file was run: in one transaction, as its own script (BEGIN/COMMIT inside), statement by statement, or adopted by baseline. */
export type Execution = 'transaction' | 'script' | 'statements' | 'baseline';

export interface HistoryRecord {
  version: bigint;
  name: string;
  checksum: string;
  status: 'applied' | 'failed';
  execution: Execution;
  appliedAt: Date;
  appliedBy: string;
  durationMs: number;
  commit: string | null;
  error: string | null;
}

export const CREATE_HISTORY_SQL = `
CREATE SCHEMA IF NOT EXISTS rollout;
CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  version     bigint PRIMARY KEY,
  name        text NOT NULL,
  checksum    text NOT NULL,
  status      text NOT NULL CHECK (status IN ('applied', 'failed')),
  execution   text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  applied_by  text NOT NULL,
  duration_ms integer NOT NULL DEFAULT 0,
  commit      text,
  error       text
);`;

/** Create the schema and table if needed. Call with the environment lock held: CREATE … IF NOT EXISTS races otherwise. */
export async function ensureHistory(client: pg.ClientBase): Promise<void> {
  await client.query(CREATE_HISTORY_SQL);
}

/** Read the history; a database the tool never touched has none (and is not written to: plan is read-only). */
export async function readHistory(client: pg.ClientBase): Promise<HistoryRecord[]> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass('${HISTORY_TABLE}') IS NOT NULL AS present`);
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query<{
    version: string; name: string; checksum: string; status: 'applied' | 'failed'; execution: Execution;
    applied_at: Date; applied_by: string; duration_ms: number; commit: string | null; error: string | null;
  }>(`SELECT version::text AS version, name, checksum, status, execution, applied_at, applied_by, duration_ms, commit, error FROM ${HISTORY_TABLE} h ORDER BY h.version`);
  return rows.map((row) => ({
    version: BigInt(row.version),
    name: row.name,
    checksum: row.checksum,
    status: row.status,
    execution: row.execution,
    appliedAt: row.applied_at,
    appliedBy: row.applied_by,
    durationMs: row.duration_ms,
    commit: row.commit,
    error: row.error,
  }));
}

export interface RecordValues {
  version: bigint;
  name: string;
  checksum: string;
  status: 'applied' | 'failed';
  execution: Execution;
  appliedBy: string;
  commit: string | null;
  error?: string | null;
  /** SQL expression for the duration in ms; in a transaction, `clock_timestamp() - now()` measures the file. */
  durationSql: string;
}

/**
 * An upsert as literal SQL, so that it can ride in the same simple query as the
 * migration itself (one round trip per file). A retried 'failed' row is overwritten.
 */
export function upsertRecordSql(values: RecordValues): string {
  return (
    `INSERT INTO ${HISTORY_TABLE} (version, name, checksum, status, execution, applied_at, applied_by, duration_ms, commit, error) VALUES (` +
    [
      values.version.toString(),
      literal(values.name),
      literal(values.checksum),
      literal(values.status),
      literal(values.execution),
      'clock_timestamp()',
      literal(values.appliedBy),
      values.durationSql,
      literal(values.commit),
      literal(values.error ?? null),
    ].join(', ') +
    ') ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, status = EXCLUDED.status, ' +
    'execution = EXCLUDED.execution, applied_at = EXCLUDED.applied_at, applied_by = EXCLUDED.applied_by, ' +
    'duration_ms = EXCLUDED.duration_ms, commit = EXCLUDED.commit, error = EXCLUDED.error'
  );
}

/** Quote a value as an SQL literal (what pg's escapeLiteral does, without needing a client). */
export function literal(value: string | null): string {
  if (value === null) return 'NULL';
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}
