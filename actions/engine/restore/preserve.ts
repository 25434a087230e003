/**
 * What a restore never rewinds: the ledger (with its changes) and the measurements. They
 * record what happened, not what state the database is in; a restore that took them back to
 * the backup's day would erase the record of the very damage it repairs (and break the
 * ledger's hash chain against any head published since).
 *
 * On a server they are left out of pg_restore (toc.ts), so they are never touched. The
 * embedded database is replaced whole, so their rows are read before and the newer ones
 * written back after, in the transaction that records the restore.
 */
import type pg from 'pg';
import type { PreservedObjects } from './toc.ts';

export const PRESERVED_SCHEMA = 'rollout';
/** In foreign-key order: the ledger before its changes and the measurements that name its entries. */
export const PRESERVED_TABLES = ['ledger', 'ledger_changes', 'measurements'] as const;
type PreservedTable = (typeof PRESERVED_TABLES)[number];
/** The trigger function that keeps the ledger append-only: dropping it would need the ledger's triggers gone first. */
const PRESERVED_FUNCTIONS = ['refuse_ledger_rewrite()'];

/** The preserved tables this database has, with their indexes and sequences; null when it has no ledger (nothing to keep). */
export async function preservedObjects(client: pg.ClientBase): Promise<PreservedObjects | null> {
  const { rows } = await client.query<{ tables: string[] | null; relations: string[] | null }>(
    `SELECT (SELECT array_agg(t.relname::text) FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
              WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND t.relkind IN ('r', 'p')) AS tables,
            (SELECT array_agg(r.relname::text) FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
               JOIN pg_depend d ON d.refobjid = t.oid AND d.refclassid = 'pg_class'::regclass AND d.classid = 'pg_class'::regclass
               JOIN pg_class r ON r.oid = d.objid AND r.relkind IN ('i', 'S')
              WHERE n.nspname = $1 AND t.relname = ANY($2::text[])) AS relations`,
    [PRESERVED_SCHEMA, PRESERVED_TABLES],
  );
  const tables = rows[0]?.tables ?? [];
  if (!tables.includes('ledger')) return null;
  return { schema: PRESERVED_SCHEMA, tables, relations: rows[0]?.relations ?? [], functions: PRESERVED_FUNCTIONS };
}

/** Every row of the preserved tables, as JSON text per table (absent tables are left out). */
export type PreservedRows = Partial<Record<PreservedTable, string>>;

export async function readPreservedRows(client: pg.ClientBase, keep: PreservedObjects): Promise<PreservedRows> {
  const saved: PreservedRows = {};
  for (const table of PRESERVED_TABLES) {
    if (!keep.tables.includes(table)) continue;
    const order = table === 'ledger_changes' ? 'ledger_id, ordinal' : 'id';
    const { rows } = await client.query<{ rows: string }>(`SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY ${order}), '[]')::text AS rows FROM ${PRESERVED_SCHEMA}.${table} t`);
    saved[table] = rows[0]?.rows ?? '[]';
  }
  return saved;
}

/**
 * Inside a transaction, on the restored database (its tool schema brought up to date):
 * write back the saved rows newer than what the backup has, and move the identity
 * sequences past them. Returns how many ledger entries and measurements came back.
 */
export async function writeBackPreservedRows(client: pg.ClientBase, saved: PreservedRows): Promise<{ ledger: number; measurements: number }> {
  const { rows: [restored] } = await client.query<{ ledger: string; measurements: string }>(
    `SELECT (SELECT coalesce(max(id), 0) FROM ${PRESERVED_SCHEMA}.ledger)::text AS ledger, (SELECT coalesce(max(id), 0) FROM ${PRESERVED_SCHEMA}.measurements)::text AS measurements`,
  );
  const insert = async (table: PreservedTable, idColumn: string, after: string): Promise<number> => {
    if (!saved[table]) return 0;
    const result = await client.query(
      `INSERT INTO ${PRESERVED_SCHEMA}.${table} OVERRIDING SYSTEM VALUE
       SELECT r.* FROM jsonb_populate_recordset(NULL::${PRESERVED_SCHEMA}.${table}, $1::jsonb) r WHERE r.${idColumn} > $2::bigint`,
      [saved[table], after],
    );
    return result.rowCount ?? 0;
  };
  const ledger = await insert('ledger', 'id', restored.ledger);
  await insert('ledger_changes', 'ledger_id', restored.ledger);
  const measurements = await insert('measurements', 'id', restored.measurements);
  for (const table of ['ledger', 'measurements'] as const) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, 'id'), greatest((SELECT max(id) FROM ${PRESERVED_SCHEMA}.${table}), 1))`,
      [`${PRESERVED_SCHEMA}.${table}`],
    );
  }
  return { ledger, measurements };
}
