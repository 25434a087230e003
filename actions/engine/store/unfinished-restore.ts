/**
 * A restore whose outcome was never recorded. `rollout restore` commits an entry of outcome
 * `started` before it replaces anything and one with the outcome after (restore/restore.ts);
 * pg_restore commits in its own transaction, between the two. So when the environment's latest
 * restore entry is `started`, a restore is running, or its process died in between: the
 * database then holds all of the backup or none of it (the embedded one: its data directory is
 * swapped whole, db/data-dir-swap.ts), and running the same restore again brings it to the
 * backup either way and records the outcome.
 */
import type pg from 'pg';

export interface UnfinishedRestore {
  id: number;
  at: Date;
  actor: string;
  /** The file, as the entry names it (relative to the repository when it is inside it). */
  backup: string | null;
  sha256: string | null;
  /** The option that named the file: `--from` for a dump made elsewhere; `--backup` otherwise. */
  option: '--backup' | '--from';
  /** --into: the new database (or folder) it was restoring into; the environment's own was not touched. */
  into: string | null;
}

export async function readUnfinishedRestore(client: pg.ClientBase, environment: string): Promise<UnfinishedRestore | null> {
  const { rows } = await client.query<Omit<UnfinishedRestore, 'option'> & { outcome: string; option: string | null }>(
    `SELECT id::int AS id, at, actor, outcome, summary->>'backup' AS backup, summary->>'sha256' AS sha256,
            summary->>'option' AS option, summary->>'into' AS into
       FROM rollout.ledger WHERE environment = $1 AND kind = 'restore' ORDER BY id DESC LIMIT 1`,
    [environment],
  );
  const latest = rows[0];
  if (!latest || latest.outcome !== 'started') return null;
  const { outcome: _outcome, option, ...rest } = latest;
  return { ...rest, option: option === '--from' ? '--from' : '--backup' };
}

/** The warning plan, status and health print, with the command that finishes it. */
export function unfinishedRestoreWarning(environment: string, restore: UnfinishedRestore): string {
  const backup = restore.backup ?? 'the same backup';
  const command = `rollout restore --env ${environment} ${restore.option} ${backup}${restore.into !== null ? ` --into ${restore.into}` : ''} --yes`;
  const what = `restore #${restore.id} of ${backup}${restore.sha256 ? ` (sha256 ${restore.sha256.slice(0, 12)}…)` : ''}${restore.into !== null ? ` into ${restore.into}` : ''}, started ${restore.at.toISOString()} by ${restore.actor}, has recorded no outcome: it is still running, or its process stopped before it could`;
  if (restore.into !== null) {
    return (
      `${what}. ${environment}'s own database was not touched; ${restore.into} may exist, empty or restored. ` +
      `Once no restore is running, run ${command} again: it drops ${restore.into}, which that restore marked as its own (a database or folder without that mark is refused, never dropped), and restores into it (paths from the repository root; docs/migrations.md, "Restoring a backup").`
    );
  }
  return (
    `${what} (pg_restore runs in one transaction, so the database holds all of that backup or none of it). ` +
    `Once no restore is running, run ${command} again (paths from the repository root): it restores the same backup and records the outcome (docs/migrations.md, "Restoring a backup").`
  );
}
