/**
 * Functions a check may not call by name. Two sources:
 *
 * - A fixed list of what acts outside the read-only transaction (locks, settings,
 *   sequences, notifications, signals, WAL, replication), runs SQL text the parser cannot
 *   see, or reads other sessions' state. These are executable by PUBLIC, so only the
 *   guard stops a direct call to them.
 * - The catalog of the database the checks run on: every function of pg_catalog or of an
 *   installed extension that Postgres itself withholds from PUBLIC. That is how Postgres
 *   marks what reads or writes server files (pg_read_file, pg_stat_file, pg_ls_dir,
 *   lo_import, adminpack's pg_file_write …), runs programs, or reconfigures the server, on
 *   whatever version and extensions the database has. Read once per check connection.
 *
 * The checks role is what makes a call inside a view or a function harmless; this list
 * refuses the direct call before anything is sent, with a message that says why.
 */
import type pg from 'pg';

const FIXED_NAMES = [
  // Effects that survive ROLLBACK or happen outside the transaction.
  'set_config', 'nextval', 'setval', 'pg_notify', 'txid_current', 'pg_current_xact_id',
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_promote',
  'pg_switch_wal', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup', 'pg_create_restore_point',
  'pg_import_system_collations', 'pg_log_backend_memory_contexts', 'pg_wal_replay_pause', 'pg_wal_replay_resume',
  // Writes to an index whatever the transaction's read-only state.
  'brin_summarize_new_values', 'brin_summarize_range', 'brin_desummarize_range', 'gin_clean_pending_list',
  // SQL text the parser cannot see.
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema',
  // Large objects and server files (also withheld from PUBLIC: listed for when no catalog is at hand).
  'loread', 'lowrite', 'pg_stat_file', 'pg_current_logfile', 'pg_config', 'pg_hba_file_rules', 'pg_ident_file_mappings',
  'pg_show_all_file_settings',
  // Other sessions' state: what they run, hold and wait for.
  'pg_stat_get_activity', 'pg_lock_status', 'pg_blocking_pids', 'pg_safe_snapshot_blocking_pids', 'pg_isolation_test_session_is_blocked',
  'pg_stat_get_progress_info', 'pg_prepared_xact', 'pg_get_backend_memory_contexts', 'pg_get_shmem_allocations',
  'pg_stat_get_wal_senders', 'pg_stat_get_wal_receiver', 'pg_stat_get_subscription', 'pg_get_replication_slots',
];

const FIXED_PREFIXES = [
  'pg_advisory_', 'pg_try_advisory_', 'dblink', 'lo_', 'pg_replication_', 'pg_create_', 'pg_drop_',
  'pg_stat_reset', 'pg_file_', 'pg_read_', 'pg_ls_', 'pg_logical_', 'pg_sequence_', 'pg_stat_get_backend_',
];

const FIXED = new Set(FIXED_NAMES);

/** The fixed list's verdict, without a database (also what `validate` can tell). */
export function isForbiddenFunction(name: string, fromCatalog: ReadonlySet<string> = EMPTY): boolean {
  const lower = name.toLowerCase();
  return FIXED.has(lower) || fromCatalog.has(lower) || FIXED_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * pg_catalog and extension functions that PUBLIC may not execute: Postgres's own list of
 * privileged functions. `proacl IS NOT NULL` first: a function without an ACL has the default
 * one, which grants EXECUTE to PUBLIC, so it can never be in the list; the filter spares the
 * privilege check of nearly every row of pg_proc (read at every health and verify run: ~20 ms
 * of the server's time before, ~5 ms now, measured on the health bench's database).
 */
export const PRIVILEGED_FUNCTIONS_SQL = `
SELECT coalesce(array_agg(DISTINCT p.proname::text), '{}') AS names
  FROM pg_proc p
 WHERE p.proacl IS NOT NULL
   AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
   AND (p.pronamespace = 'pg_catalog'::regnamespace
        OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'))`;

export async function privilegedFunctions(client: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await client.query<{ names: string[] }>(PRIVILEGED_FUNCTIONS_SQL);
  return new Set((rows[0]?.names ?? []).map((n) => n.toLowerCase()));
}
