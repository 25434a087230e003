/**
 * An applied migration whose file was only reformatted since (a formatter run over the
 * history, keywords re-cased, comments added): its statements are the ones that ran, so it is
 * not an edit to refuse. Git has the text that ran (the version whose checksum the history
 * recorded); both texts parse to the same statements, locations aside.
 *
 * Without the Git history (a shallow clone) or with any doubt (a text that does not parse),
 * nothing is claimed and the change stays an edit.
 */
import { execFile } from 'node:child_process';
import { checksumSql } from './checksum.ts';
import type { MigrationFile } from './files.ts';
import type { HistoryRecord } from './history.ts';
import { runnableFromPsqlScript } from './psql-script.ts';
import { sectionsOf } from './sections.ts';
import { loadParser, rawParser } from './statements.ts';

/** How far back to look for the applied text: a file is rarely rewritten more often. */
const MAX_VERSIONS = 50;

export interface Reformatted {
  /** The commit whose version of the file is the text that ran. */
  commit: string;
}

/** For each changed file (by id) whose statements equal the applied text's: where that text is. */
export async function findReformatted(root: string, changed: readonly { file: MigrationFile; record: HistoryRecord }[]): Promise<Map<string, Reformatted>> {
  const found = new Map<string, Reformatted>();
  if (changed.length === 0) return found;
  await loadParser();
  for (const { file, record } of changed) {
    const applied = await appliedText(root, file.path, record.checksum);
    if (!applied) continue;
    // The text that runs, as readMigrationFiles makes it: dbmate's down section and psql's meta-commands aside.
    if (sameStatements(runnableFromPsqlScript(file.path, sectionsOf(applied.text).runnable).sql, file.sql)) found.set(file.id, { commit: applied.commit });
  }
  return found;
}

async function appliedText(root: string, path: string, checksum: string): Promise<{ commit: string; text: string } | undefined> {
  const log = await git(root, ['log', `--max-count=${MAX_VERSIONS}`, '--format=%H', '--', path]);
  for (const commit of (log ?? '').split('\n').filter(Boolean)) {
    // ./ makes the path relative to root, which may be a folder inside the Git repository.
    const text = await git(root, ['show', `${commit}:./${path}`]);
    if (text !== undefined && checksumSql(text) === checksum) return { commit, text };
  }
  return undefined;
}

function git(root: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => resolve(error ? undefined : stdout));
  });
}

/** Same statements: equal parse trees once every source position is dropped. */
export function sameStatements(a: string, b: string): boolean {
  const tree = (sql: string): string | undefined => {
    try {
      return JSON.stringify(rawParser()(sql), (key, value: unknown) => (key === 'location' || key === 'stmt_location' || key === 'stmt_len' ? undefined : value));
    } catch {
      return undefined;
    }
  };
  const left = tree(a);
  return left !== undefined && left === tree(b);
}
