/**
 * The migration history, in the tool's own schema so that it never collides with the
 * application's tables. One row per migration identity (files.ts: a plain file's version,
 * a Prisma folder's name); a non-transactional file that did not finish keeps a 'failed'
 * row until it is retried.
 *
 * The first shape of the table (before identities) was keyed by `version`. A database
 * migrated then is read as it is (plan stays read-only) and upgraded in place by the next
 * writer (apply, baseline, adopt), under the environment lock: see upgradeHistory.
 */
import type pg from 'pg';
import type { MigrationFile } from './files.ts';

export const HISTORY_TABLE = 'rollout.schema_migrations';

/** How a file was run: in one transaction, as its own script (BEGIN/COMMIT inside), statement by statement, recorded by baseline, or adopted from another tool's history. */
export type Execution = 'transaction' | 'script' | 'statements' | 'baseline' | 'adopted';

export interface HistoryRecord {
  id: string;
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
  /** For adopted rows: the tool and table the row was adopted from, e.g. "prisma (_prisma_migrations)". */
  adoptedFrom: string | null;
}

export const CREATE_HISTORY_SQL = `
CREATE SCHEMA IF NOT EXISTS rollout;
CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  id           text PRIMARY KEY,
  version      bigint NOT NULL,
  name         text NOT NULL,
  checksum     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('applied', 'failed')),
  execution    text NOT NULL,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  applied_by   text NOT NULL,
  duration_ms  integer NOT NULL DEFAULT 0,
  commit       text,
  error        text,
  adopted_from text
);`;

const HAS_ID_SQL = `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('${HISTORY_TABLE}') AND attname = 'id' AND NOT attisdropped) AS has_id`;

/**
 * Create the schema and table if needed, and upgrade a table of the first shape. Call with
 * the environment lock held: CREATE … IF NOT EXISTS races otherwise. `files` are the
 * environment's migrations: they tell which old rows were Prisma folders.
 */
export async function ensureHistory(client: pg.ClientBase, files: readonly MigrationFile[]): Promise<void> {
  // One round trip when the table is current: the CREATEs and the shape check in one query.
  const results = (await client.query(`${CREATE_HISTORY_SQL}\n${HAS_ID_SQL}`)) as unknown as pg.QueryResult<{ has_id: boolean }>[];
  const shape = results.at(-1)?.rows[0];
  if (shape && !shape.has_id) await upgradeHistory(client, files);
}

/**
 * The in-place upgrade from the first shape, in one transaction: add `id` (and
 * `adopted_from`), fill it, and make it the primary key. The first shape refused two files
 * of one version, so each old row is one migration: a Prisma folder's row (a folder
 * `<version>_<name>` is among the files) gets the folder name, any other row its version.
 */
export async function upgradeHistory(client: pg.ClientBase, files: readonly MigrationFile[]): Promise<void> {
  const folders = files.filter((f) => f.layout === 'folder');
  const values = folders.map((f) => `(${f.version.toString()}, ${literal(f.name)}, ${literal(f.id)})`).join(', ');
  await client.query(
    [
      'BEGIN',
      `LOCK TABLE ${HISTORY_TABLE} IN ACCESS EXCLUSIVE MODE`,
      `ALTER TABLE ${HISTORY_TABLE} ADD COLUMN IF NOT EXISTS id text, ADD COLUMN IF NOT EXISTS adopted_from text`,
      `UPDATE ${HISTORY_TABLE} SET id = version::text WHERE id IS NULL`,
      ...(folders.length > 0 ? [`UPDATE ${HISTORY_TABLE} h SET id = f.id FROM (VALUES ${values}) AS f(version, name, id) WHERE h.version = f.version AND h.name = f.name`] : []),
      `ALTER TABLE ${HISTORY_TABLE} DROP CONSTRAINT IF EXISTS schema_migrations_pkey, ALTER COLUMN id SET NOT NULL, ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (id)`,
      'COMMIT',
    ].join(';\n'),
  );
}

export interface HistoryRow {
  id: string | null;
  version: string;
  name: string;
  checksum: string;
  status: 'applied' | 'failed';
  execution: Execution;
  applied_at: Date;
  applied_by: string;
  duration_ms: number;
  commit: string | null;
  error: string | null;
  adopted_from: string | null;
}

/**
 * Read the history; a database the tool never touched has none (and is not written to: plan
 * is read-only). A table of the first shape is read as the upgrade would leave it (`files`
 * tell which rows are Prisma folders), so plan and apply agree before the upgrade ran.
 */
export async function readHistory(client: pg.ClientBase, files: readonly MigrationFile[]): Promise<HistoryRecord[]> {
  return toHistoryRecords(await readHistoryRows(client), files);
}

/** The rows as stored (`id` is null in a table of the first shape); toHistoryRecords completes them. */
export async function readHistoryRows(client: pg.ClientBase): Promise<HistoryRow[]> {
  const { rows: shape } = await client.query<{ present: boolean; has_id: boolean }>(
    `SELECT to_regclass('${HISTORY_TABLE}') IS NOT NULL AS present, (${HAS_ID_SQL}) AS has_id`,
  );
  if (!shape[0]?.present) return [];
  const columns = shape[0].has_id ? 'id, adopted_from' : 'NULL::text AS id, NULL::text AS adopted_from';
  const { rows } = await client.query<HistoryRow>(
    `SELECT ${columns}, version::text AS version, name, checksum, status, execution, applied_at, applied_by, duration_ms, commit, error FROM ${HISTORY_TABLE} h ORDER BY h.version, h.name`,
  );
  return rows;
}

export function toHistoryRecords(rows: readonly HistoryRow[], files: readonly MigrationFile[]): HistoryRecord[] {
  const folderIds = new Map(files.filter((f) => f.layout === 'folder').map((f) => [`${f.version}_${f.name}`, f.id]));
  return rows.map((row) => ({
    id: row.id ?? folderIds.get(`${row.version}_${row.name}`) ?? row.version,
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
    adoptedFrom: row.adopted_from,
  }));
}

export interface RecordValues {
  id: string;
  version: bigint;
  name: string;
  checksum: string;
  status: 'applied' | 'failed';
  execution: Execution;
  appliedBy: string;
  commit: string | null;
  error?: string | null;
  adoptedFrom?: string | null;
  /** SQL expression for the duration in ms; in a transaction, `clock_timestamp() - now()` measures the file. */
  durationSql: string;
  /** SQL expression for applied_at; defaults to clock_timestamp(). */
  appliedAtSql?: string;
}

/**
 * An upsert as literal SQL, so that it can ride in the same simple query as the
 * migration itself (one round trip per file). A retried 'failed' row is overwritten.
 */
export function upsertRecordSql(values: RecordValues): string {
  return (
    `INSERT INTO ${HISTORY_TABLE} (id, version, name, checksum, status, execution, applied_at, applied_by, duration_ms, commit, error, adopted_from) VALUES (` +
    [
      literal(values.id),
      values.version.toString(),
      literal(values.name),
      literal(values.checksum),
      literal(values.status),
      literal(values.execution),
      values.appliedAtSql ?? 'clock_timestamp()',
      literal(values.appliedBy),
      values.durationSql,
      literal(values.commit),
      literal(values.error ?? null),
      literal(values.adoptedFrom ?? null),
    ].join(', ') +
    ') ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, checksum = EXCLUDED.checksum, status = EXCLUDED.status, ' +
    'execution = EXCLUDED.execution, applied_at = EXCLUDED.applied_at, applied_by = EXCLUDED.applied_by, ' +
    'duration_ms = EXCLUDED.duration_ms, commit = EXCLUDED.commit, error = EXCLUDED.error, adopted_from = EXCLUDED.adopted_from'
  );
}

/** Quote a value as an SQL literal (what pg's escapeLiteral does, without needing a client). */
export function literal(value: string | null): string {
  if (value === null) return 'NULL';
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}
