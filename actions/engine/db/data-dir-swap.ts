/**
 * The one step of an embedded restore that replaces the environment's data: the restored data
 * directory (prepared beside it, its ledger already holding the kept rows and the outcome)
 * takes the data directory's place. Two renames, each atomic, with a journal around them, so
 * that whichever moment a crash hits, the next process to open the directory finds it whole:
 *
 *   journal written ─► <dir> → <dir>.before-restore-<time> ─► <dir>.restoring → <dir> ─► journal removed
 *
 * Before the first rename <dir> is the old data (its ledger says the restore has recorded no
 * outcome); after the second it is the restored data, outcome included. Between them there is
 * no <dir>: `settleInterruptedSwap`, which every open runs first, finishes the move (the restored
 * directory was complete before the journal was written) and says what it did.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseError } from '../errors.ts';
import { cleanupFailed, warn } from '../cleanup.ts';
import { failpoint } from '../failpoint.ts';
import { LOCK_FILE_NAME, lockFile, type LockWait } from './data-dir-lock.ts';

interface SwapJournal {
  pid: number;
  host: string;
  since: string;
  /** The restored data directory, complete, that is to become <dir>. */
  restored: string;
  /** Where <dir> as it was goes (and stays, for whoever needs it). */
  aside: string;
}

const journalPath = (dir: string): string => `${dir}.restore-swap.json`;
/** Held while the directories move or are put right: an opener waits on it as on the data directory's own lock. */
const swapLockPath = (dir: string): string => `${dir}.restore-swap.lock`;

/** Where an embedded restore prepares the restored data directory: beside <dir>, one at a time (the restore holds <dir>'s lock). */
export const restoringDirOf = (dir: string): string => `${dir}.restoring`;

/** Where <dir> as it was is kept after a restore. */
export const asideDirOf = (dir: string, now = new Date()): string => `${dir}.before-restore-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;

/**
 * Put `restored` in place of `dir` (moving `dir` to `aside`). The caller holds `dir`'s lock and
 * has closed every database on both; `restored` already holds a copy of that lock file, so that
 * <dir> is never unlocked while this process runs. If a rename fails (rather than the process
 * dying), the first is undone and the error thrown: nothing changed.
 */
export async function swapDataDir(dir: string, restored: string, aside: string): Promise<void> {
  const release = await lockFile(swapLockPath(dir), `The restore of ${dir}`, { mode: 'fail', timeoutMs: 0 });
  try {
    failpoint('restore-swap:before-journal');
    const journal: SwapJournal = { pid: process.pid, host: hostname(), since: new Date().toISOString(), restored, aside };
    // Written whole or not at all: a half-written journal must never be read.
    await writeFile(`${journalPath(dir)}.tmp`, JSON.stringify(journal));
    await rename(`${journalPath(dir)}.tmp`, journalPath(dir));
    failpoint('restore-swap:before-aside');
    await rename(dir, aside);
    failpoint('restore-swap:between-renames');
    try {
      await rename(restored, dir);
    } catch (error) {
      await rename(aside, dir);
      await unlink(journalPath(dir)).catch(cleanupFailed(`removing ${journalPath(dir)}`));
      throw new DatabaseError(`Could not move the restored data directory ${restored} to ${dir}: ${(error as Error).message}. ${dir} is as it was.`, { cause: error });
    }
    failpoint('restore-swap:after-renames');
    // The lock file moved aside with the old data: it is ours, and would only look like a live holder there.
    await rm(join(aside, LOCK_FILE_NAME), { force: true }).catch(cleanupFailed(`removing the lock file in ${aside}`));
    await unlink(journalPath(dir));
  } finally {
    await release();
  }
}

/** True while a journal says a swap of `dir` began and was not settled. */
export const swapInProgress = (dir: string): boolean => existsSync(journalPath(dir));

/**
 * Run before opening `dir`: if a restore's swap of it was interrupted, wait for it (while the
 * restore runs) or, once its process is gone, finish or undo it, and warn what was done.
 */
export async function settleInterruptedSwap(dir: string, wait: LockWait): Promise<void> {
  if (!swapInProgress(dir)) return;
  const release = await lockFile(swapLockPath(dir), `The restore of ${dir}`, wait);
  try {
    // Read under the lock: the restore may have finished, or another process settled it, meanwhile.
    const journal = await readJournal(dir);
    if (journal) warn(await settle(dir, journal));
  } finally {
    await release();
  }
}

async function readJournal(dir: string): Promise<SwapJournal | undefined> {
  try {
    return JSON.parse(await readFile(journalPath(dir), 'utf8')) as SwapJournal;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DatabaseError(`Could not read ${journalPath(dir)}, the journal of an interrupted restore of ${dir}: ${(error as Error).message}. Compare ${dir} with the folders it names, then delete it.`, { cause: error });
  }
}

/** Finish or undo what the journal's restore left, by which of its folders exist; returns what was done. */
async function settle(dir: string, journal: SwapJournal): Promise<string> {
  const who = `a restore (process ${journal.pid}, started ${journal.since}) stopped`;
  const hasDir = existsSync(dir);
  const hasRestored = existsSync(journal.restored);
  if (hasDir && hasRestored) {
    // Before the first rename: nothing moved. The restored copy is dropped; running the restore again makes a new one.
    await rm(journal.restored, { recursive: true, force: true });
    await unlink(journalPath(dir));
    return `${who} before its backup took the place of ${dir}: the data directory is as it was (its ledger says the restore recorded no outcome). Removed the restored copy ${journal.restored}.`;
  }
  if (!hasDir && hasRestored) {
    // Between the renames: the restored directory was complete (kept rows and outcome in its ledger) before the journal was written.
    await rename(journal.restored, dir);
    await rm(join(journal.aside, LOCK_FILE_NAME), { force: true });
    await unlink(journalPath(dir));
    return `${who} between moving ${dir} aside and moving the restored data directory in: finished it. ${dir} is the restored data directory (its ledger records the restore); the one before it is in ${journal.aside}.`;
  }
  if (hasDir) {
    // After both renames: only the journal was left to remove.
    await rm(join(journal.aside, LOCK_FILE_NAME), { force: true });
    await unlink(journalPath(dir));
    return `${who} after its backup took the place of ${dir}: the restore is complete (its ledger records it); the data directory before it is in ${journal.aside}.`;
  }
  throw new DatabaseError(
    `${who} and left neither ${dir} nor the restored data directory ${journal.restored}. The data directory as it was should be in ${journal.aside}: move it back to ${dir}, then delete ${journalPath(dir)}.`,
  );
}
