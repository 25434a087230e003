/**
 * The history tables other migration tools keep, read as each tool defines them:
 *
 * | tool            | table (default)                             | identifies a migration by          | content it stores          |
 * | --------------- | ------------------------------------------- | ---------------------------------- | -------------------------- |
 * | prisma          | _prisma_migrations                          | migration_name (the folder name)   | sha256 of migration.sql    |
 * | dbmate          | schema_migrations (version)                 | version (file name's digits)       | nothing                    |
 * | flyway          | flyway_schema_history                       | version (V<version>__…)            | CRC32 of the file's lines  |
 * | node-pg-migrate | pgmigrations (name, run_on)                 | name (file name without extension) | nothing                    |
 * | supabase        | supabase_migrations.schema_migrations       | version (file name's digits)       | the file's statements      |
 * | golang-migrate  | schema_migrations (version, dirty)          | one row: the current version       | nothing                    |
 *
 * Each source turns its rows into ForeignMigration records: one per migration the tool knows,
 * with the tool's verdict (applied, failed, rolled back) and whatever it stored of the content.
 */
import type pg from 'pg';
import { UserError } from '../errors.ts';

export const ADOPT_SOURCES = ['prisma', 'dbmate', 'flyway', 'node-pg-migrate', 'supabase', 'golang-migrate'] as const;
export type AdoptSource = (typeof ADOPT_SOURCES)[number];

export type ForeignContent =
  | { kind: 'sha256'; checksum: string }
  | { kind: 'crc32'; checksum: number }
  | { kind: 'statements'; statements: string[] }
  | { kind: 'none' };

export interface ForeignMigration {
  /** What the tool identifies the migration by: a name (prisma, node-pg-migrate) or a version's digits. */
  key: string;
  /** How the tool's row matches a file: by `<version>_<name>` (the name of the file or folder, without .sql) or by version number. */
  matchBy: 'name' | 'version';
  state: 'applied' | 'failed' | 'rolled-back';
  appliedAt: Date | null;
  content: ForeignContent;
  /** The tool's own words about a failure (Prisma's logs), if any. */
  detail?: string;
}

export interface ForeignHistory {
  source: AdoptSource;
  /** The table read, schema-qualified, for messages and the adopted_from column. */
  table: string;
  migrations: ForeignMigration[];
  /** Flyway's baseline: every version up to it counts as applied, with nothing stored. */
  baselineVersion?: bigint;
}

interface Candidate {
  source: AdoptSource;
  schema: string;
  table: string;
}

/** Find the history tables of other tools in the database (several tools may have left one). */
export async function findForeignHistories(client: pg.ClientBase): Promise<Candidate[]> {
  const { rows } = await client.query<{ schema: string; table: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS table, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND c.relname IN ('_prisma_migrations', 'schema_migrations', 'flyway_schema_history', 'pgmigrations')
        AND n.nspname NOT IN ('rollout', 'pg_catalog', 'information_schema')
      GROUP BY n.nspname, c.relname ORDER BY n.nspname, c.relname`,
  );
  const candidates: Candidate[] = [];
  for (const row of rows) {
    const has = (...names: string[]): boolean => names.every((name) => row.columns.includes(name));
    if (row.table === '_prisma_migrations' && has('migration_name', 'checksum', 'finished_at', 'rolled_back_at')) candidates.push({ source: 'prisma', ...row });
    else if (row.table === 'flyway_schema_history' && has('installed_rank', 'version', 'checksum', 'success')) candidates.push({ source: 'flyway', ...row });
    else if (row.table === 'pgmigrations' && has('name', 'run_on')) candidates.push({ source: 'node-pg-migrate', ...row });
    else if (row.table === 'schema_migrations' && row.schema === 'supabase_migrations' && has('version')) candidates.push({ source: 'supabase', ...row });
    // golang-migrate's table has one row, the current version, and a dirty mark; dbmate's a row per migration.
    else if (row.table === 'schema_migrations' && has('version', 'dirty')) candidates.push({ source: 'golang-migrate', ...row });
    else if (row.table === 'schema_migrations' && has('version')) candidates.push({ source: 'dbmate', ...row });
  }
  return candidates;
}

/**
 * The history to adopt from: the one --from and --table name, or the only one there is.
 * Refuses (with what was found) when that is ambiguous or absent, instead of guessing.
 */
export async function chooseForeignHistory(client: pg.ClientBase, options: { from?: AdoptSource; table?: string }, environment: string): Promise<Candidate> {
  const found = await findForeignHistories(client);
  const describe = (c: Candidate): string => `${c.source} (${c.schema}.${c.table})`;
  const wantedTable = options.table ? splitTable(options.table) : undefined;
  const matching = found.filter(
    (c) => (!options.from || c.source === options.from) && (!wantedTable || (c.table === wantedTable.table && (wantedTable.schema === undefined || c.schema === wantedTable.schema))),
  );
  if (matching.length === 1) return matching[0];
  const list = found.length > 0 ? `It has: ${found.map(describe).join(', ')}.` : 'It has none of _prisma_migrations, schema_migrations (dbmate or golang-migrate), flyway_schema_history, pgmigrations (node-pg-migrate) or supabase_migrations.schema_migrations.';
  if (matching.length === 0) {
    const what = [options.from, options.table].filter(Boolean).join(' ');
    throw new UserError(
      `No migration history ${what ? `of ${what} ` : ''}found in the database of environment "${environment}". ${list} ` +
        (found.length > 0 ? 'Pass --from (and --table SCHEMA.TABLE if one tool left several) to pick one.' : 'Check that the environment points at the database the other tool migrated.'),
    );
  }
  throw new UserError(`The database of environment "${environment}" has more than one migration history: ${matching.map(describe).join(', ')}. Pass --from ${ADOPT_SOURCES.join('|')} and, if needed, --table SCHEMA.TABLE to say which to adopt.`);
}

function splitTable(qualified: string): { schema?: string; table: string } {
  const dot = qualified.indexOf('.');
  return dot === -1 ? { table: qualified } : { schema: qualified.slice(0, dot), table: qualified.slice(dot + 1) };
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export async function readForeignHistory(client: pg.ClientBase, candidate: Candidate): Promise<ForeignHistory> {
  const table = `${ident(candidate.schema)}.${ident(candidate.table)}`;
  const label = `${candidate.schema}.${candidate.table}`;
  switch (candidate.source) {
    case 'prisma':
      return { source: 'prisma', table: label, migrations: await readPrisma(client, table) };
    case 'dbmate': {
      const { rows } = await client.query<{ version: string }>(`SELECT version::text AS version FROM ${table} ORDER BY version`);
      return { source: 'dbmate', table: label, migrations: rows.map((r) => ({ key: r.version, matchBy: 'version', state: 'applied', appliedAt: null, content: { kind: 'none' } })) };
    }
    case 'node-pg-migrate': {
      const { rows } = await client.query<{ name: string; run_on: Date }>(`SELECT name, run_on FROM ${table} ORDER BY run_on, name`);
      return { source: 'node-pg-migrate', table: label, migrations: rows.map((r) => ({ key: r.name, matchBy: 'name', state: 'applied', appliedAt: r.run_on, content: { kind: 'none' } })) };
    }
    case 'supabase':
      return { source: 'supabase', table: label, migrations: await readSupabase(client, table) };
    case 'golang-migrate':
      return readGolangMigrate(client, table, label);
    case 'flyway':
      return readFlyway(client, table, label);
  }
}

/**
 * Prisma keeps a row per attempt: a migration that failed and was later resolved or
 * re-applied has several. It is applied when some attempt finished and was not rolled back;
 * rolled back when every attempt was; failed otherwise (the latest attempt never finished).
 */
async function readPrisma(client: pg.ClientBase, table: string): Promise<ForeignMigration[]> {
  const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; logs: string | null }>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM ${table} ORDER BY started_at, migration_name`,
  );
  const byName = new Map<string, typeof rows>();
  for (const row of rows) byName.set(row.migration_name, [...(byName.get(row.migration_name) ?? []), row]);
  return [...byName].map(([name, attempts]) => {
    const applied = attempts.filter((a) => a.finished_at !== null && a.rolled_back_at === null).at(-1);
    const latest = attempts.at(-1)!;
    const state = applied ? 'applied' : attempts.every((a) => a.rolled_back_at !== null) ? 'rolled-back' : 'failed';
    const row = applied ?? latest;
    return {
      key: name,
      matchBy: 'name',
      state,
      appliedAt: applied?.finished_at ?? null,
      content: { kind: 'sha256', checksum: row.checksum },
      ...(state === 'failed' && latest.logs ? { detail: latest.logs.trim().split('\n').slice(0, 3).join(' ') } : {}),
    };
  });
}

/** Older Supabase CLIs kept only the version; `statements` and `name` came later. */
async function readSupabase(client: pg.ClientBase, table: string): Promise<ForeignMigration[]> {
  const { rows: cols } = await client.query<{ has: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'statements' AND NOT attisdropped) AS has`,
    [table],
  );
  const statements = cols[0]?.has ? 'statements' : 'NULL::text[] AS statements';
  const { rows } = await client.query<{ version: string; statements: string[] | null }>(`SELECT version::text AS version, ${statements} FROM ${table} ORDER BY version`);
  return rows.map((r) => ({
    key: r.version,
    matchBy: 'version',
    state: 'applied',
    appliedAt: null,
    content: r.statements ? { kind: 'statements', statements: r.statements } : { kind: 'none' },
  }));
}

/**
 * Flyway: one row per attempt, in installed_rank order. Versioned migrations only (repeatable
 * ones have no version and are not adopted); the latest row of a version decides (success or
 * not); a DELETE row (flyway repair of a missing migration) removes the version; a BASELINE
 * row stands for every version up to it.
 */
async function readFlyway(client: pg.ClientBase, table: string, label: string): Promise<ForeignHistory> {
  const { rows } = await client.query<{ version: string | null; type: string; checksum: number | null; installed_on: Date; success: boolean }>(
    `SELECT version, type, checksum, installed_on, success FROM ${table} ORDER BY installed_rank`,
  );
  const byVersion = new Map<string, ForeignMigration>();
  let baselineVersion: bigint | undefined;
  for (const row of rows) {
    if (row.version === null) continue;
    if (row.type === 'BASELINE') {
      if (/^\d+$/.test(row.version)) baselineVersion = BigInt(row.version);
      continue;
    }
    if (row.type === 'DELETE') {
      byVersion.delete(row.version);
      continue;
    }
    if (row.type === 'UNDO_SQL' || row.type === 'SCHEMA') continue;
    byVersion.set(row.version, {
      key: row.version,
      matchBy: 'version',
      state: row.success ? 'applied' : 'failed',
      appliedAt: row.installed_on,
      content: row.checksum === null ? { kind: 'none' } : { kind: 'crc32', checksum: row.checksum },
    });
  }
  return { source: 'flyway', table: label, migrations: [...byVersion.values()], ...(baselineVersion !== undefined ? { baselineVersion } : {}) };
}

/**
 * golang-migrate keeps only the version it reached: every file up to it is applied (as below
 * Flyway's baseline), and nothing of any content. A dirty version is one that failed partway:
 * adopting it would record a half-run migration as done.
 */
async function readGolangMigrate(client: pg.ClientBase, table: string, label: string): Promise<ForeignHistory> {
  const { rows } = await client.query<{ version: string; dirty: boolean }>(`SELECT version::text AS version, dirty FROM ${table} ORDER BY version DESC LIMIT 1`);
  const row = rows[0];
  if (!row) return { source: 'golang-migrate', table: label, migrations: [] };
  if (row.dirty) {
    throw new UserError(
      `golang-migrate's history (${label}) marks version ${row.version} dirty: that migration failed partway, so rollout will not record it as applied. ` +
        `Finish or undo it by hand, then run \`migrate force ${row.version}\` (or the version before it) and adopt again.`,
    );
  }
  if (!/^\d+$/.test(row.version) || BigInt(row.version) < 0n) return { source: 'golang-migrate', table: label, migrations: [] };
  return { source: 'golang-migrate', table: label, migrations: [], baselineVersion: BigInt(row.version) };
}
