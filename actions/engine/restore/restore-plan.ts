/**
 * What `rollout restore` is about to do, and what it did: pure, so that the preview a person
 * confirms and the ledger row it leaves are built from the same facts and tested without a database.
 */
import type { JsonValue } from '../config/model.ts';
import type { LedgerChange } from '../store/ledger.ts';
import type { LiveState } from '../store/live-state.ts';
import { compactJson } from '../plan/json-diff.ts';

export interface ChosenBackup {
  /** As the user reads it: relative to the repository when it is inside it. */
  display: string;
  /** What to pass as --backup from the current directory. */
  argument: string;
  /** Absolute path. */
  path: string;
  bytes: number;
  /** From the file name, when rollout named it. */
  takenAt: Date | null;
  /** The environment the file name says it is of, when rollout named it. */
  environment: string | null;
  /** 'newest': picked from the backup folder (of `of`); 'given': --backup; 'from': --from, a dump made elsewhere. */
  chosen: 'given' | 'newest' | 'from';
  of?: number;
  /** --from: the file's sha256, recorded in the ledger entry. */
  sha256?: string;
}

export interface RestorePlan {
  environment: string;
  /** The environment's database, redacted. */
  database: string;
  databaseKind: 'embedded' | 'url';
  backup: ChosenBackup;
  /** A new database (server) or folder (embedded) to restore into, leaving the environment's as it is. */
  into?: string;
  /** Tables kept as they are live (qualified names); empty when the database has none yet. */
  preserved: string[];
  /** Migrations the live history records as applied after the backup was taken (by time). */
  appliedSince: Array<{ id: string; appliedAt: Date }>;
}

export interface Snapshot {
  /** Ids of the migrations the history records as applied. */
  migrations: ReadonlySet<string>;
  live: LiveState;
}

const when = (date: Date | null): string => (date ? date.toISOString().replace(/\.\d+Z$/, 'Z') : 'time unknown: the file name is not one rollout gave');

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** The preview: every line a person needs to say yes, and the command that says it. */
export function renderRestorePlan(plan: RestorePlan): string[] {
  const b = plan.backup;
  const source = b.chosen === 'newest' ? `the newest of ${b.of ?? 1} backup(s) of "${plan.environment}" in its backup folder` : b.chosen === 'from' ? 'given by --from: a pg_dump archive made elsewhere' : 'given by --backup';
  const taken = b.chosen === 'from' ? 'made elsewhere, so when is not known' : `taken ${when(b.takenAt)}`;
  const lines = [
    `restore plan for ${plan.environment}:`,
    `  backup    ${b.display} (${taken}, ${size(b.bytes)}; ${source})`,
  ];
  if (b.sha256) lines.push(`  sha256    ${b.sha256} (recorded in the ledger entry)`);
  if (b.environment && b.environment !== plan.environment) {
    lines.push(`  WARNING   its name says it is a backup of environment "${b.environment}", not "${plan.environment}"`);
  }
  if (plan.into) {
    lines.push(`  into      ${plan.into}: a new ${plan.databaseKind === 'url' ? 'database' : 'data directory'}; ${plan.database} is left as it is`);
    lines.push(`  ledger    one entry (kind restore) in ${plan.environment}'s ledger records it`);
  } else {
    lines.push(`  replaces  the contents of ${plan.database} with the backup's`);
    if (plan.databaseKind === 'url') {
      lines.push('            in one transaction (pg_restore --clean --single-transaction): all of it or nothing;');
      lines.push('            objects created after the backup that it does not hold are left as they are');
    } else {
      lines.push('            the current data directory is kept aside (<dir>.before-restore-<time>) until you delete it');
    }
    if (plan.preserved.length > 0) lines.push(`  keeps     ${plan.preserved.join(', ')} as they are (the record of what happened since)`);
    if (plan.appliedSince.length > 0) {
      lines.push('  rewinds   migrations applied after the backup was taken, which the next apply runs again (fix or remove them in Git first if they did the damage):');
      for (const m of plan.appliedSince) lines.push(`              ${m.id} (applied ${when(m.appliedAt)})`);
    }
  }
  const into = plan.into ? ` --into ${plan.into}` : '';
  lines.push('', `Nothing was changed. To restore: rollout restore --env ${plan.environment} ${b.chosen === 'from' ? '--from' : '--backup'} ${b.argument}${into} --yes`);
  return lines;
}

/** The ledger changes of an in-place restore: every migration and flag it moved, from live before to live after. */
export function restoreChanges(before: Snapshot, after: Snapshot): LedgerChange[] {
  const changes: LedgerChange[] = [];
  for (const id of [...before.migrations].sort()) if (!after.migrations.has(id)) changes.push({ subject: 'migration', key: id, action: 'unrecorded' });
  for (const id of [...after.migrations].sort()) if (!before.migrations.has(id)) changes.push({ subject: 'migration', key: id, action: 'recorded' });
  const keys = [...new Set([...before.live.flags.keys(), ...after.live.flags.keys(), ...before.live.rollouts.keys(), ...after.live.rollouts.keys()])].sort();
  for (const key of keys) {
    const was = flagAt(before, key);
    const is = flagAt(after, key);
    if (was.text === is.text && was.stage === is.stage && was.percent === is.percent) continue;
    changes.push({
      subject: 'flag', key, action: 'restore', oldValue: was.value, newValue: is.value,
      oldStage: was.stage, newStage: is.stage, oldPercent: was.percent, newPercent: is.percent,
    });
  }
  return changes;
}

function flagAt(snapshot: Snapshot, key: string): { value: JsonValue | null; text: string | null; stage: string | null; percent: number | null } {
  const flag = snapshot.live.flags.get(key);
  const rollout = snapshot.live.rollouts.get(key);
  return {
    value: flag?.value ?? null,
    text: flag ? (flag.text ?? JSON.stringify(flag.value)) : null,
    stage: rollout?.stage ?? null,
    percent: rollout?.percent ?? null,
  };
}

/** What the restore changed, for the terminal: one line per flag and migration. */
export function renderRestoreChanges(changes: readonly LedgerChange[]): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.subject === 'flag') {
      const stage = c.oldStage !== c.newStage || c.oldPercent !== c.newPercent ? ` (stage ${rung(c.oldStage, c.oldPercent)} → ${rung(c.newStage, c.newPercent)})` : '';
      lines.push(`  flag ${c.key}: ${show(c.oldValue)} → ${show(c.newValue)}${stage}`);
    }
  }
  const unrecorded = changes.filter((c) => c.subject === 'migration' && c.action === 'unrecorded').map((c) => c.key);
  if (unrecorded.length > 0) {
    lines.push(`  migrations no longer recorded as applied: ${unrecorded.join(', ')}. The next apply runs them again: fix or remove them in Git first if they did the damage.`);
  }
  return lines;
}

const show = (value: JsonValue | null | undefined): string => (value === null || value === undefined ? '(absent)' : compactJson(value));
const rung = (stage: string | null | undefined, percent: number | null | undefined): string => (stage ? `${stage}${percent !== null && percent !== undefined ? ` ${percent}%` : ''}` : 'none');
