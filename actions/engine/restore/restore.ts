/**
 * `rollout restore`: put an environment's database back to a backup apply took, as a plan
 * first (what would be restored, from which file, what it rewinds) and, confirmed, as one
 * recorded action: under the environment's lock (refused, never queued, while another
 * apply holds it: restoring after it would silently undo it), with ledger entries of kind
 * `restore`: its intent (`started`, with the file's SHA-256) before anything is replaced, then
 * its outcome listing every flag and migration it moved. The ledger and the measurements are
 * never rewound (preserve.ts). What Git must do next is what plan then shows.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type pg from 'pg';
import type { Environment } from '../config/model.ts';
import type { Repository } from '../config/repository.ts';
import { locate } from '../config/yaml-source.ts';
import { isOpen, type RestoreTarget } from '../db/database.ts';
import { lockEnvironment, openDatabase, withTransaction, type Database } from '../db/index.ts';
import { UserError, toError } from '../errors.ts';
import { cleanupFailed } from '../cleanup.ts';
import { readHistoryRows, type HistoryRow } from '../migrate/history.ts';
import { readMigrationFiles } from '../migrate/files.ts';
import { appendLedger, type LedgerChange } from '../store/ledger.ts';
import { readLiveState } from '../store/live-state.ts';
import { ensureToolSchema } from '../store/tool-schema.ts';
import { readUnfinishedRestore } from '../store/unfinished-restore.ts';
import { intoMark } from './into-mark.ts';
import { BACKUP_EXTENSION, kindMismatch, newestBackup, parseBackupName } from './backup-file.ts';
import { fileSha256 } from './file-hash.ts';
import { chooseForeignDump } from './foreign-dump.ts';
import { preservedObjects, readPreservedRows, writeBackPreservedRows } from './preserve.ts';
import { restoreChanges, type ChosenBackup, type RestorePlan, type Snapshot } from './restore-plan.ts';
import type { PreservedObjects } from './toc.ts';

export interface RestoreRequest {
  root: string;
  env: Environment;
  /** The repository the environment was loaded from: positions for problems in its file. */
  repository?: Repository;
  processEnv: NodeJS.ProcessEnv;
  actor: string;
  commit: string | null;
  reason?: string | null;
  /** --backup as given (relative to `cwd`); the newest in migrations.backup.directory when absent. */
  backup?: string;
  /** --from: a pg_dump custom-format archive made elsewhere (foreign-dump.ts), instead of a backup apply took. */
  from?: string;
  /** --into: a new database (server) or folder (embedded) instead of the environment's own. */
  into?: string;
  /** --yes: do it; otherwise only plan. */
  confirm: boolean;
  /** Where a relative --backup is read from: the caller's working directory, passed in (the engine never reads process.cwd()). */
  cwd: string;
}

export interface RestoreDone {
  ledgerId: number;
  changes: LedgerChange[];
  /** Embedded, in place: where the data directory before the restore was kept. */
  aside?: string;
  /** --into: where the backup now is, safe to print. */
  into?: string;
}

export interface RestoreOutcome {
  plan: RestorePlan;
  /** Null for a plan only (no --yes). */
  done: RestoreDone | null;
}

export async function restoreOperation(request: RestoreRequest): Promise<RestoreOutcome> {
  const { env } = request;
  // Every mistake in the request is found before a connection is opened.
  const backup = request.from !== undefined ? await chooseForeignDump({ ...request, from: request.from }) : await chooseBackup(request);
  // Fail, never wait: a restore queued behind an apply would undo that apply unseen.
  const db = await openDatabase(env, { root: request.root, processEnv: request.processEnv, applicationName: `rollout restore ${env.name}`, wait: { mode: 'fail', timeoutMs: 0 } });
  try {
    const client = await db.connect();
    // The embedded database's lock is its data directory's (taken by openDatabase); a server's is the environment's advisory lock.
    const release = db.kind === 'url' ? await lockEnvironment(client, env.name, { mode: 'fail', timeoutMs: 0 }) : undefined;
    try {
      const keep = request.into ? null : await preservedObjects(client);
      const history = await readHistoryRows(client);
      const historyId = await migrationNamer(request.root, env);
      const plan: RestorePlan = {
        environment: env.name,
        database: db.label,
        databaseKind: db.kind,
        backup,
        ...(request.into ? { into: request.into } : {}),
        preserved: keep ? keep.tables.map((t) => `${keep.schema}.${t}`) : [],
        appliedSince: backup.takenAt
          ? history.filter((r) => r.status === 'applied' && r.applied_at > backup.takenAt!).map((r) => ({ id: historyId(r), appliedAt: r.applied_at }))
          : [],
      };
      if (!request.confirm) return { plan, done: null };
      // Hashed once, for every entry of this restore (a --from dump was hashed for its plan already).
      const hashed: ChosenBackup = backup.sha256 ? backup : { ...backup, sha256: await fileSha256(backup.path) };
      const done = request.into ? await restoreInto(db, client, request, hashed) : await restoreInPlace(db, client, request, hashed, keep, historyId);
      return { plan, done };
    } finally {
      await release?.();
    }
  } finally {
    await db.close();
  }
}

async function restoreInto(db: Database, client: pg.Client, request: RestoreRequest, backup: ChosenBackup): Promise<RestoreDone> {
  await ensureToolSchema(client);
  // Read before this restore's own intent: a rerun of one that died may drop the target it marked (into-mark.ts).
  const unfinished = await readUnfinishedRestore(client, request.env.name);
  const replaces = unfinished && unfinished.into === request.into && unfinished.sha256 ? intoMark(request.env.name, unfinished.id, unfinished.sha256) : undefined;
  // The intent is recorded once the target is known to be free: a refused rerun leaves the unfinished restore the latest, still warned about.
  let started: number | undefined;
  const begin = async (): Promise<string> => {
    started = await recordStart(client, request, backup);
    return intoMark(request.env.name, started, backup.sha256!);
  };
  const into = await db.restoreInto(backup.path, request.into!, { begin, ...(replaces ? { replaces } : {}) }).catch(async (error: unknown) => {
    if (started !== undefined) await recordFailure(db, client, request, backup, error, started);
    throw error;
  });
  const ledgerId = await withTransaction(client, (tx) => appendLedger(tx, meta(request, backup, 'restored into a new database', { into, started: `#${started!}` }), []));
  return { ledgerId, changes: [], into };
}

/**
 * The intent, committed before anything is replaced: kind restore, outcome `started`, with the
 * file's SHA-256 (in every entry of the restore, meta), the option that named it and --into.
 * pg_restore commits in a transaction of its own, so the entry that records the outcome cannot
 * share it; a process that dies between the two leaves this entry as the environment's latest
 * restore, which plan, status and health report with the command to run it again
 * (store/unfinished-restore.ts) until a restore records an outcome. In the embedded database's
 * case it is carried over with the other preserved rows.
 */
async function recordStart(client: pg.ClientBase, request: RestoreRequest, backup: ChosenBackup): Promise<number> {
  const extra = { option: backup.chosen === 'from' ? '--from' : '--backup', ...(request.into !== undefined ? { into: request.into } : {}) };
  return withTransaction(client, (tx) => appendLedger(tx, meta(request, backup, 'started', extra), []));
}

async function restoreInPlace(db: Database, client: pg.Client, request: RestoreRequest, backup: ChosenBackup, keep: PreservedObjects | null, historyId: HistoryNamer): Promise<RestoreDone> {
  const before = await snapshot(client, request.env, historyId);
  // Without a ledger (keep is null) there is nowhere to record the intent that the restore would
  // keep: a ledger made now would leave the backup's out of it. The outcome is the only entry.
  if (keep) await ensureToolSchema(client);
  const started = keep ? await recordStart(client, request, backup) : undefined;
  // Read after the intent, so that the embedded database carries it over too.
  const saved = keep && db.kind === 'embedded' ? await readPreservedRows(client, keep) : undefined;
  let target: RestoreTarget;
  try {
    target = await db.restore(backup.path, keep);
  } catch (error) {
    await recordFailure(db, client, request, backup, error, started);
    throw error;
  }
  try {
    // The outcome is written on the restored database: a server's own (pg_restore committed); the
    // embedded one's copy beside it, which commit() then swaps in whole, kept rows and outcome
    // with it, so that no crash can leave the restored data without them (db/data-dir-swap.ts).
    const writer = target.client;
    await ensureToolSchema(writer);
    const after = await snapshot(writer, request.env, historyId);
    const changes = restoreChanges(before, after);
    const ledgerId = await withTransaction(writer, async (tx) => {
      // Written back in the transaction of the entry that explains why the ledger has them twice over nothing.
      const carried = saved ? await writeBackPreservedRows(tx, saved) : undefined;
      const summary: Record<string, string | Record<string, number>> = {
        ...(started !== undefined ? { started: `#${started}` } : {}),
        ...(target.aside ? { aside: target.aside } : {}),
        ...(carried ? { carriedOver: carried } : {}),
      };
      const id = await appendLedger(tx, meta(request, backup, 'restored', summary), changes);
      // Services holding definitions in memory re-read everything (a notice without keys), at COMMIT.
      await tx.query("SELECT pg_notify('rollout_flags', $1)", [JSON.stringify({ ledger_id: id })]);
      return id;
    });
    await target.commit();
    return { ledgerId, changes, ...(target.aside ? { aside: target.aside } : {}) };
  } catch (error) {
    // Embedded, before the swap: the environment's data is as it was, so the restore failed. On a
    // server pg_restore had committed: the intent stays the latest entry, and plan says to run it again.
    if (!target.replaced) {
      await target.abandon().catch(cleanupFailed('removing the restored copy'));
      await recordFailure(db, client, request, backup, error, started);
    }
    throw error;
  }
}

/** A restore that failed changed nothing (one transaction; an unpacked folder never moved): still, it was tried. */
async function recordFailure(db: Database, client: pg.Client, request: RestoreRequest, backup: ChosenBackup, error: unknown, started: number | undefined): Promise<void> {
  try {
    const writer = isOpen(client) ? client : await db.connect();
    await ensureToolSchema(writer);
    const summary = { error: toError(error).message, ...(started !== undefined ? { started: `#${started}` } : {}) };
    await withTransaction(writer, (tx) => appendLedger(tx, meta(request, backup, 'failed', summary), []));
  } catch (thrown) {
    cleanupFailed('recording the failed restore in the ledger')(thrown);
  }
}

function meta(request: RestoreRequest, backup: ChosenBackup, outcome: string, extra: Record<string, string | Record<string, number>>) {
  return {
    environment: request.env.name,
    kind: 'restore' as const,
    actor: request.actor,
    commit: request.commit,
    pullRequest: null,
    planHash: null,
    outcome,
    reason: request.reason ?? null,
    summary: { backup: backup.display, takenAt: backup.takenAt?.toISOString() ?? null, ...(backup.sha256 ? { sha256: backup.sha256 } : {}), ...extra },
  };
}

async function snapshot(client: pg.ClientBase, env: Environment, historyId: HistoryNamer): Promise<Snapshot> {
  const history = await readHistoryRows(client);
  return { migrations: new Set(history.filter((r) => r.status === 'applied').map(historyId)), live: await readLiveState(client, env.flagTable) };
}

type HistoryNamer = (row: HistoryRow) => string;

/** A history row by its file's path (migrations/0002_x.sql), as apply's ledger entries name migrations; by version_name when the file is gone. */
async function migrationNamer(root: string, env: Environment): Promise<HistoryNamer> {
  const { files } = await readMigrationFiles(root, env.migrations.directory).catch(() => ({ files: [] }));
  const paths = new Map(files.map((f) => [f.id, f.path]));
  return (row) => paths.get(row.id ?? '') ?? `${row.version}_${row.name}`;
}

/** The backup --backup names, or the newest of this environment's in its backup folder; every refusal says what to do. */
export async function chooseBackup(request: Pick<RestoreRequest, 'root' | 'env' | 'repository' | 'backup' | 'cwd'>): Promise<ChosenBackup> {
  const { env, root } = request;
  if (env.database.kind === 'fleet') {
    throw new UserError(`${env.name} is a fleet: a backup is one target's. Restore one target with --env ${env.name}/<target> (docs/fleets.md).`);
  }
  const kind = env.database.kind;
  const within = (base: string, path: string): string => {
    const rel = relative(base, path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };
  const display = (path: string): string => within(root, path);
  // --backup is read relative to the current directory, so the command the plan prints names it from there.
  const argument = (path: string): string => within(request.cwd, path);
  if (request.backup !== undefined) {
    const path = resolve(request.cwd, request.backup);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new UserError(`--backup ${request.backup}: ${info ? 'not a file' : 'no such file'} (${path}). Name a backup apply wrote (rollout apply prints "backup: <file>"), e.g. one in ${env.migrations.backup?.directory ?? 'the folder migrations.backup.directory names'}.`);
    }
    const mismatch = kindMismatch(request.backup, kind, env.name);
    if (mismatch) throw new UserError(mismatch);
    const name = parseBackupName(path);
    return { display: display(path), argument: argument(path), path, bytes: info.size, takenAt: name?.takenAt ?? null, environment: name?.environment ?? null, chosen: 'given' };
  }
  const source = request.repository?.files.get(env.name)?.source;
  const at = (path: string[], key = false): string => {
    const position = source ? locate(source, path, { key }) : { line: 1, column: 1 };
    return `${env.file}:${position.line}:${position.column}`;
  };
  const settings = env.migrations.backup;
  if (!settings) {
    throw new UserError(
      `${at(['migrations'], true)}: environment "${env.name}" sets no migrations.backup, so apply takes no backups and there is none to restore. ` +
        'Pass --backup FILE, or add migrations: { backup: { directory: backups } } so that apply takes one before it migrates.',
    );
  }
  const folder = resolve(root, settings.directory);
  const files = await readdir(folder).catch(() => [] as string[]);
  const newest = newestBackup(files, env.name, kind);
  if (!newest) {
    throw new UserError(
      `${at(['migrations', 'backup', 'directory'])}: no backup of "${env.name}" in ${settings.directory} (looked for ${env.name}-<YYYYMMDDTHHMMSSZ>.${BACKUP_EXTENSION[kind]}). ` +
        'apply writes one there before it runs a migration; pass --backup FILE to restore another file.',
    );
  }
  const path = resolve(folder, newest.file);
  const info = await stat(path);
  return { display: display(path), argument: argument(path), path, bytes: info.size, takenAt: newest.name.takenAt, environment: newest.name.environment, chosen: 'newest', of: newest.of };
}
