/**
 * The pure part of migrating: files × history → what is applied, pending, changed,
 * missing or failed, what will run, and what blocks the run. No I/O, so every rule is
 * tested without a database.
 */
import type { Problem } from '../problems.ts';
import type { MigrationFile } from './files.ts';
import type { HistoryRecord } from './history.ts';

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing' | 'failed';

export interface MigrationEntry {
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
}

export interface MigrationPlan {
  entries: MigrationEntry[];
  /** Files to run, in order. */
  toRun: MigrationFile[];
  /** Errors block apply; warnings are shown. */
  problems: Problem[];
}

export function planMigrations(files: readonly MigrationFile[], history: readonly HistoryRecord[], rules: PlanRules): MigrationPlan {
  const records = new Map(history.map((record) => [record.version, record]));
  const newestApplied = history.reduce<bigint | undefined>((max, r) => (max === undefined || r.version > max ? r.version : max), undefined);
  const entries: MigrationEntry[] = [];
  const problems: Problem[] = [];
  const toRun: MigrationFile[] = [];
  const at = (path: string, severity: Problem['severity'], message: string): void => {
    problems.push({ file: path, line: 1, column: 1, severity, message });
  };

  for (const file of files) {
    const record = records.get(file.version);
    records.delete(file.version);
    const base = { version: file.version, name: file.name, path: file.path, file, outOfOrder: false };
    if (!record) {
      const outOfOrder = newestApplied !== undefined && file.version < newestApplied;
      entries.push({ ...base, state: 'pending', outOfOrder });
      toRun.push(file);
      if (outOfOrder) {
        const message =
          `${file.path} is new but older than the newest applied migration (${newestApplied}). ` +
          (rules.allowOutOfOrder
            ? 'It will run out of order (migrations.allow_out_of_order is true).'
            : `Give it a version after ${newestApplied} (rename the file), or set migrations.allow_out_of_order: true in the environment if its order does not matter.`);
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
    const path = `${rules.directory}/${record.version}_${record.name}`;
    entries.push({ version: record.version, name: record.name, path, state: 'missing', outOfOrder: false, record });
    if (record.status === 'failed' && !rules.allowMissing) {
      at(path, 'error', `Migration ${record.version}_${record.name} is recorded as failed and its file is gone. Restore the file and run apply with --retry-failed, or repair the database and delete its row from rollout.schema_migrations.`);
      continue;
    }
    at(
      path,
      rules.allowMissing ? 'warning' : 'error',
      `Migration ${record.version}_${record.name} was applied on ${record.appliedAt.toISOString()} but its file is missing from ${rules.directory}/. ` +
        (rules.allowMissing ? 'Ignored (migrations.allow_missing is true).' : 'Restore the file (git log --diff-filter=D), or set migrations.allow_missing: true in the environment if it was removed on purpose.'),
    );
  }

  entries.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { entries, toRun, problems };
}

/**
 * What `baseline --version V` records: every file up to V that is not applied yet (or
 * whose checksum changed) is marked applied without running it.
 */
export function planBaseline(files: readonly MigrationFile[], history: readonly HistoryRecord[], upTo: bigint): MigrationFile[] {
  const records = new Map(history.map((record) => [record.version, record]));
  return files.filter((file) => {
    if (file.version > upTo) return false;
    const record = records.get(file.version);
    return !record || record.status !== 'applied' || record.checksum !== file.checksum;
  });
}

const short = (checksum: string): string => checksum.slice(0, 12);
