/**
 * The mark a `--into` restore puts on the database (or folder) it creates, before restoring
 * anything into it: which restore made it (the environment, its `started` entry, the file's
 * sha256). A rerun after a crash drops an existing target only when it bears exactly the mark of
 * the unfinished restore it reruns, so a database someone else made, or another restore's, is
 * never dropped.
 */
export const MARK_PREFIX = 'rollout restore #';

export function intoMark(environment: string, started: number, sha256: string): string {
  return `${MARK_PREFIX}${started} of environment ${environment} (sha256 ${sha256})`;
}
