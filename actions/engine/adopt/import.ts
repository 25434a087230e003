/**
 * The import operation: read the table, record the adoption in the ledger (with the lock, in
 * one transaction with the rows it writes), then write the environment file. The database
 * goes first: an import that fails there leaves the file untouched, and one that fails
 * writing the file leaves rows Git does not name, which the plan shows as not managed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../config/model.ts';
import type { Repository } from '../config/repository.ts';
import { UserError, toError } from '../errors.ts';
import { inspectMigrations } from '../migrate/index.ts';
import { currentActor } from '../migrate/provenance.ts';
import { withSession } from '../session.ts';
import { commitFlagChanges } from '../store/flag-writer.ts';
import { DEFAULT_FLAG_TABLE } from '../store/live-state.ts';
import { ensureToolSchema } from '../store/tool-schema.ts';
import { addImportedFlags, readFlagTable, selectImport, suggestContract, type ImportSelection, type ImportedFlag } from './import-flags.ts';

export interface ImportRequest {
  root: string;
  env: Environment;
  repository: Repository;
  processEnv: NodeJS.ProcessEnv;
  /** The table to read; default the environment's flag_store.table (or rollout.flags). */
  table?: string;
  /** Only these keys; every key the file lacks when empty. */
  flags: readonly string[];
  /** Show what would happen; write nothing. */
  dryRun: boolean;
}

export interface ImportResult extends Omit<ImportSelection, 'imported'> {
  table: string;
  imported: ImportedFlag[];
  /** The ledger entry that recorded the adoption (null when nothing was imported, or a dry run). */
  ledgerId: number | null;
  /** Whether flag_store.table was added to the file. */
  tableAdded: boolean;
  /** Migrations of the folder the database has no record of, and the newest one's version. */
  pendingMigrations: number;
  newestPending: string | null;
}

export async function importFlags(request: ImportRequest): Promise<ImportResult> {
  const { env, root } = request;
  if (request.table !== undefined && env.flagTable !== undefined && request.table !== env.flagTable) {
    throw new UserError(`${env.file} keeps its flags in ${env.flagTable}; import from it (drop --table), or change flag_store.table to ${request.table} first.`);
  }
  const table = request.table ?? env.flagTable ?? DEFAULT_FLAG_TABLE;
  const inFile = new Set(env.flags.keys());
  return withSession(env, { root, processEnv: request.processEnv, lock: !request.dryRun }, async ({ client }) => {
    const rows = await readFlagTable(client, table);
    const selection = selectImport(rows, inFile, request.flags, table);
    const imported = selection.imported.map((row) => ({ ...row, suggestion: suggestContract(row.key, row.value, request.repository.contracts) }));
    const pending = (await inspectMigrations(client, { root, env, processEnv: request.processEnv })).plan.toRun;
    const tableAdded = env.flagTable === undefined && table !== DEFAULT_FLAG_TABLE;
    const result: ImportResult = { ...selection, table, imported, ledgerId: null, tableAdded, pendingMigrations: pending.length, newestPending: pending.at(-1)?.version.toString() ?? null };
    if (request.dryRun || imported.length === 0) return result;
    try {
      await ensureToolSchema(client);
      result.ledgerId = await commitFlagChanges(
        client,
        table,
        {
          environment: env.name,
          kind: 'baseline',
          actor: currentActor(request.processEnv),
          commit: null,
          pullRequest: null,
          planHash: null,
          outcome: 'applied',
          reason: `rollout import: ${imported.length} flag(s) of ${table} taken as they are into ${env.file}`,
        },
        imported.map((f) => ({ subject: 'flag', key: f.key, action: 'import', oldValue: f.value, newValue: f.value })),
        imported.map((f) => ({ key: f.key, value: f.value, position: null, serving: { offValue: f.value, segments: [], killSwitch: false } })),
      );
    } catch (thrown) {
      const error = toError(thrown);
      if (/read-only transaction|permission denied/.test(error.message)) {
        throw new UserError(`import records the flags it adopts in ${env.name}'s ledger, which needs the writer's URL (${env.database.kind === 'url' ? env.database.urlEnv : 'the embedded database'}), not a read-only role: ${error.message}`, { cause: thrown });
      }
      throw thrown;
    }
    const path = join(root, env.file);
    writeFileSync(path, addImportedFlags(env.file, readFileSync(path, 'utf8'), imported, tableAdded ? table : undefined));
    return result;
  });
}
