/**
 * Restoring a server database from the pg_dump custom-format file apply's backup wrote:
 * in place (pg_restore --clean, in one transaction, the preserved tables left out), or into
 * a new database on the same server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import type { IntoMarks } from './database.ts';
import { UserError } from '../errors.ts';
import { cleanupFailed, warn } from '../cleanup.ts';
import { failpoint } from '../failpoint.ts';
import { MARK_PREFIX } from '../restore/into-mark.ts';
import { excludePreserved, type PreservedObjects } from '../restore/toc.ts';
import { redactUrl } from './redact.ts';
import { runPgProgram, urlOfDatabase } from './pg-tools.ts';

/**
 * Replace what the backup holds with its contents, all or nothing (--single-transaction):
 * --clean drops each object the backup has before recreating it, so objects created after
 * the backup, which it does not hold, stay. `keep` objects are neither dropped nor reloaded.
 */
export async function restoreServer(url: string, file: string, keep: PreservedObjects | null): Promise<void> {
  const toc = await runPgProgram('pg_restore', ['--list', file], undefined, `pg_restore --list ${file}`);
  const list = keep ? excludePreserved(toc, keep).list : toc;
  const dir = await mkdtemp(join(tmpdir(), 'rollout-restore-'));
  try {
    const listFile = join(dir, 'toc.list');
    await writeFile(listFile, list);
    await runPgProgram('pg_restore', ['--clean', '--if-exists', '--single-transaction', '--no-password', `--use-list=${listFile}`, file], url, `pg_restore of ${file}`);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(cleanupFailed(`removing the temporary folder ${dir}`));
  }
}

/** A database name rollout creates unquoted-safe: letters, digits, _ and $, not starting with a digit, at most 63 bytes. */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * Create database `into` on the server `client` is connected to, mark it as this restore's
 * (COMMENT ON DATABASE, so that a rerun after a crash can prove it made it) and restore the
 * backup there (Database.restoreInto). A name that exists is refused, unless its comment is
 * exactly `marks.replaces`: the half-made database of the unfinished restore this one reruns,
 * dropped first. Drops what it created when the restore fails. Returns its URL, redacted.
 */
export async function restoreServerInto(url: string, client: pg.ClientBase, file: string, into: string, marks: IntoMarks): Promise<string> {
  if (!DATABASE_NAME.test(into)) {
    throw new UserError(`Invalid --into '${into}'. Expected a new database name: letters, digits and _, not starting with a digit, at most 63 characters.`);
  }
  const { rows } = await client.query<{ mark: string | null }>("SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database WHERE datname = $1", [into]);
  if (rows.length > 0) {
    const mark = rows[0].mark;
    if (marks.replaces === undefined || mark !== marks.replaces) {
      const whose = mark?.startsWith(MARK_PREFIX) ? ` It is marked "${mark}", not as the unfinished restore's into ${into}, so it is not dropped.` : '';
      throw new UserError(`--into ${into}: a database of that name already exists.${whose} Choose a new name, or drop it first if it is a restore you no longer need.`);
    }
    // Not FORCE: a connection still on it (a pg_restore that outlived its rollout) makes this fail rather than cut it off.
    await client.query(`DROP DATABASE "${into}"`);
    warn(`dropped database ${into}, left half-made by ${mark} (its comment says so), to restore into it again`);
  }
  const marker = await marks.begin();
  await client.query(`CREATE DATABASE "${into}"`);
  const target = urlOfDatabase(url, into);
  try {
    // A crash before this comment leaves an unmarked database, which a rerun refuses: dropped by hand, never by guess.
    await client.query(`COMMENT ON DATABASE "${into}" IS ${client.escapeLiteral(marker)}`);
    failpoint('restore-into:marked');
    await runPgProgram('pg_restore', ['--single-transaction', '--no-password', file], target, `pg_restore of ${file}`, url);
  } catch (error) {
    await client.query(`DROP DATABASE IF EXISTS "${into}"`).catch(cleanupFailed(`dropping the half-restored database ${into}`));
    throw error;
  }
  return redactUrl(target);
}
