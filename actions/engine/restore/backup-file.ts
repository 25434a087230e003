/**
 * Which backup `rollout restore` restores: the one named by --backup, or the newest of the
 * environment's own in migrations.backup.directory. Pure: the caller lists the folder.
 * Names follow db/backup-name.ts: `<env>-20261125T120000Z.dump` (server) or `.tar.gz` (embedded).
 */
import { basename } from 'node:path';
import type { Database } from '../db/database.ts';

export type BackupKind = Database['kind'];

/** The extension each kind of database writes its backups with. */
export const BACKUP_EXTENSION: Record<BackupKind, string> = { url: 'dump', embedded: 'tar.gz' };

export interface BackupName {
  environment: string;
  takenAt: Date;
  extension: string;
}

const NAME = /^(?<environment>.+)-(?<y>\d{4})(?<mo>\d{2})(?<d>\d{2})T(?<h>\d{2})(?<mi>\d{2})(?<s>\d{2})Z\.(?<extension>dump|tar\.gz)$/;

/** What a backup's file name says (whose, when), or undefined for a name rollout did not give. */
export function parseBackupName(file: string): BackupName | undefined {
  const match = NAME.exec(basename(file));
  if (!match?.groups) return undefined;
  const g = match.groups;
  const takenAt = new Date(`${g.y}-${g.mo}-${g.d}T${g.h}:${g.mi}:${g.s}Z`);
  if (Number.isNaN(takenAt.getTime())) return undefined;
  return { environment: g.environment, takenAt, extension: g.extension };
}

/** The kind of database a backup is for, from its extension; undefined when it is neither. */
export function backupKindOf(file: string): BackupKind | undefined {
  if (file.endsWith('.tar.gz') || file.endsWith('.tgz')) return 'embedded';
  if (file.endsWith('.dump')) return 'url';
  return undefined;
}

export interface NewestBackup {
  file: string;
  name: BackupName;
  /** How many backups of this environment and kind the folder holds. */
  of: number;
}

/** The newest backup of `environment` for `kind` among `files` (names in one folder); undefined when there is none. */
export function newestBackup(files: readonly string[], environment: string, kind: BackupKind): NewestBackup | undefined {
  const candidates = files
    .map((file) => ({ file, name: parseBackupName(file) }))
    .filter((c): c is { file: string; name: BackupName } => c.name?.environment === environment && c.name.extension === BACKUP_EXTENSION[kind])
    .sort((a, b) => b.name.takenAt.getTime() - a.name.takenAt.getTime() || b.file.localeCompare(a.file));
  const newest = candidates[0];
  return newest ? { ...newest, of: candidates.length } : undefined;
}

/** Why `file` cannot be restored into a database of `kind`, with the fix; undefined when it can. */
export function kindMismatch(file: string, kind: BackupKind, environment: string): string | undefined {
  const fileKind = backupKindOf(file);
  if (fileKind === kind) return undefined;
  const wants = kind === 'url' ? 'a pg_dump custom-format file (.dump), as apply writes for a server database' : 'a .tar.gz of a data directory, as apply writes for an embedded database';
  const is = fileKind === 'url' ? 'a pg_dump file (.dump)' : fileKind === 'embedded' ? 'an embedded data directory (.tar.gz)' : 'neither a .dump nor a .tar.gz';
  return `${file} is ${is}, but environment "${environment}" has ${kind === 'url' ? 'a server' : 'an embedded'} database, which restores from ${wants}. Pass --backup with a backup of this kind of database.`;
}
