/**
 * The pure part of migrating: files × history → what is applied, pending, changed,
 * missing or failed, what will run, and what blocks the run. No I/O, so every rule is
 * tested without a database. Files and history rows meet by identity (files.ts).
 */
import type { Problem } from '../problems.ts';
import { compareMigrations, type MigrationFile, type MigrationOrdering } from './files.ts';
import type { HistoryRecord } from './history.ts';

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing' | 'failed';

export interface MigrationEntry {
  id: string;
  version: bigint;
  name: string;
  /** Repository-relative path; for a missing file, the name the history remembers. */
  path: string;
  state: MigrationState;
  /** Pending, but older than the newest applied migration. */
  outOfOrder: boolean;
  file?: MigrationFile;
  record?: HistoryRecord;
}

export interface PlanRules {
  allowMissing: boolean;
  allowOutOfOrder: boolean;
  /** Re-run migrations recorded as failed (after the user fixed them or the database). */
  retryFailed?: boolean;
  /** Environment name and migrations folder, for the commands the messages suggest. */
  environment: string;
  directory: string;
  /** How the folder's files are ordered (readMigrationFiles says); by version when not given. */
  ordering?: MigrationOrdering;
  /**
   * Applied files whose text changed but whose statements are the ones that ran (file id →
   * the commit of the applied text; reformatted.ts): a warning, not an edit that blocks.
   */
  reformatted?: ReadonlyMap<string, { commit: string }>;
}

export interface MigrationPlan {
  entries: MigrationEntry[];
  /** Files to run, in order. */
  toRun: MigrationFile[];
  /** Errors block apply; warnings are shown. */
  problems: Problem[];
}

export interface ResolvedFiles {
  /** One file per identity. */
  files: MigrationFile[];
  /** Files that share a plain file's version with another: each blocks apply and names the file to rename. */
  problems: Problem[];
}

/**
 * Two plain files with one version are one identity twice: refused (as dbmate, Supabase and
 * Flyway refuse them), with the blame on the right file. The file the history has applied
 * under that version keeps it and stays applied; every other file of the version is
 * reported, with a free version to rename it to. With no history row (e.g. `validate`, or
 * none applied yet) the first by name keeps it.
 */
export function resolveDuplicates(files: readonly MigrationFile[], history: readonly HistoryRecord[]): ResolvedFiles {
  const byId = new Map<string, MigrationFile[]>();
  for (const file of files) byId.set(file.id, [...(byId.get(file.id) ?? []), file]);
  const records = new Map(history.map((record) => [record.id, record]));
  const newest = files.reduce((max, f) => (f.version > max ? f.version : max), 0n);
  let next = newest + 1n;
  const dropped = new Set<MigrationFile>();
  const problems: Problem[] = [];
  for (const [id, group] of byId) {
    if (group.length < 2) continue;
    const record = records.get(id);
    const keeper =
      (record && (group.find((f) => f.name === record.name && f.checksum === record.checksum) ?? group.find((f) => f.name === record.name))) ??
      [...group].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))[0];
    const kept = `${keeper.path}${record && keeper.name === record.name ? ` (applied on ${record.appliedAt.toISOString()})` : ''}`;
    for (const file of group) {
      if (file === keeper) continue;
      dropped.add(file);
      const renamed = `${next.toString().padStart(file.versionText.length, '0')}_${file.name}.sql`;
      next += 1n;
      problems.push({
        file: file.path,
        line: 1,
        column: 1,
        severity: 'error',
        message:
          `Migration version ${file.versionText} of ${file.path} is already used by ${kept}. A plain migration file is identified by its version, so each version may be used once: ` +
          `give this file a version no other file has, e.g. rename it to ${renamed}.`,
      });
    }
  }
  return { files: files.filter((f) => !dropped.has(f)), problems };
}

export function planMigrations(allFiles: readonly MigrationFile[], history: readonly HistoryRecord[], rules: PlanRules): MigrationPlan {
  const ordering = rules.ordering ?? 'version';
  const { files, problems } = resolveDuplicates(allFiles, history);
  const records = new Map(history.map((record) => [record.id, record]));
  const newestApplied = history.reduce<HistoryRecord | undefined>((max, r) => (max === undefined || compareMigrations(r, max, ordering) > 0 ? r : max), undefined);
  const newestLabel = newestApplied ? recordLabel(newestApplied) : '';
  const entries: MigrationEntry[] = [];
  const toRun: MigrationFile[] = [];
  const at = (path: string, severity: Problem['severity'], message: string): void => {
    problems.push({ file: path, line: 1, column: 1, severity, message });
  };

  for (const file of files) {
    const record = records.get(file.id);
    records.delete(file.id);
    const base = { id: file.id, version: file.version, name: file.name, path: file.path, file, outOfOrder: false };
    if (!record) {
      const outOfOrder = newestApplied !== undefined && compareMigrations(file, newestApplied, ordering) < 0;
      entries.push({ ...base, state: 'pending', outOfOrder });
      toRun.push(file);
      if (outOfOrder) {
        const rename =
          file.layout === 'folder' ? 'Give its folder a name that sorts after it (a later timestamp)' : `Give it a version after ${newestApplied.version} (rename the file)`;
        const message =
          `${file.path} is new but older than the newest applied migration (${newestLabel}). ` +
          (rules.allowOutOfOrder
            ? 'It will run out of order (migrations.allow_out_of_order is true).'
            : `${rename}, or set migrations.allow_out_of_order: true in the environment if its order does not matter.`);
        at(file.path, rules.allowOutOfOrder ? 'warning' : 'error', message);
      }
    } else if (record.status === 'failed') {
      entries.push({ ...base, state: 'failed', record });
      if (rules.retryFailed) {
        toRun.push(file);
      } else {
        at(
          file.path,
          'error',
          `${file.path} failed part-way on ${record.appliedAt.toISOString()} and ran outside a transaction, so some of its statements may be applied: ${record.error ?? 'no error recorded (the process was stopped)'}. ` +
            `Make the file safe to re-run (e.g. IF NOT EXISTS; drop an INVALID index left by CONCURRENTLY) or repair the database by hand, then run \`rollout migrate apply --env ${rules.environment} --retry-failed\`.`,
        );
      }
    } else if (record.checksum !== file.checksum && rules.reformatted?.has(file.id)) {
      entries.push({ ...base, state: 'changed', record });
      at(
        file.path,
        'warning',
        `${file.path} was reformatted since it was applied on ${record.appliedAt.toISOString()} (checksum ${short(record.checksum)} → ${short(file.checksum)}), ` +
          `but its statements are the ones that ran (the file at commit ${rules.reformatted.get(file.id)?.commit.slice(0, 12)}): nothing to run again. ` +
          `Record its new checksum with \`rollout migrate baseline --env ${rules.environment} --version ${file.version}\` to stop this warning.`,
      );
    } else if (record.checksum !== file.checksum) {
      entries.push({ ...base, state: 'changed', record });
      at(
        file.path,
        'error',
        `${file.path} was applied on ${record.appliedAt.toISOString()} but its content has changed since (checksum ${short(record.checksum)} → ${short(file.checksum)}). ` +
          `An applied migration must not be edited: restore it (git log -p -- ${file.path}) and put the change in a new migration. ` +
          `If the database already matches the edited file, record its new checksum with \`rollout migrate baseline --env ${rules.environment} --version ${file.version}\`.`,
      );
    } else {
      entries.push({ ...base, state: 'applied', record });
    }
  }

  for (const record of records.values()) {
    const label = recordLabel(record);
    const path = `${rules.directory}/${label}`;
    entries.push({ id: record.id, version: record.version, name: record.name, path, state: 'missing', outOfOrder: false, record });
    if (record.status === 'failed' && !rules.allowMissing) {
      at(path, 'error', `Migration ${label} is recorded as failed and its file is gone. Restore the file and run apply with --retry-failed, or repair the database and delete its row (id '${record.id}') from rollout.schema_migrations.`);
      continue;
    }
    at(
      path,
      rules.allowMissing ? 'warning' : 'error',
      `Migration ${label} was applied on ${record.appliedAt.toISOString()} but its file is missing from ${rules.directory}/. ` +
        (rules.allowMissing ? 'Ignored (migrations.allow_missing is true).' : 'Restore the file (git log --diff-filter=D), or set migrations.allow_missing: true in the environment if it was removed on purpose.'),
    );
  }

  entries.sort((a, b) => compareMigrations(a, b, ordering));
  return { entries, toRun, problems };
}

/** How a history row is named in messages: a Prisma folder by its name, a plain file by <version>_<name>. */
const recordLabel = (record: HistoryRecord): string => (record.id === record.version.toString() ? `${record.version}_${record.name}` : record.id);

/**
 * What `baseline --version V` records: every file up to V that is not applied yet (or
 * whose checksum changed) is marked applied without running it.
 */
export function planBaseline(files: readonly MigrationFile[], history: readonly HistoryRecord[], upTo: bigint): MigrationFile[] {
  const records = new Map(history.map((record) => [record.id, record]));
  return files.filter((file) => {
    if (file.version > upTo) return false;
    const record = records.get(file.id);
    return !record || record.status !== 'applied' || record.checksum !== file.checksum;
  });
}

const short = (checksum: string): string => checksum.slice(0, 12);
