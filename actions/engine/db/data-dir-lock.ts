/**
 * PGlite is a single-process database: two processes opening one data directory would
 * corrupt it. An exclusive lock file inside the directory serialises them. A lock left by
 * a process that died (SIGKILL, power loss) is taken over when its pid is gone.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { LockTimeoutError } from '../errors.ts';
import { formatDuration } from '../config/duration.ts';
import { cleanupFailed } from '../cleanup.ts';

export const LOCK_FILE_NAME = '.rollout.lock';

interface LockHolder {
  pid: number;
  host: string;
  since: string;
  command: string;
}

export interface LockWait {
  mode: 'wait' | 'fail';
  timeoutMs: number;
}

/** Take the data directory's lock; resolve to a function that releases it. */
export function lockDataDir(dir: string, wait: LockWait): Promise<() => Promise<void>> {
  return lockFile(join(dir, LOCK_FILE_NAME), `The embedded database in ${dir}`, wait);
}

/**
 * Take the lock file `path` (created exclusively, taken over when its holder's pid is gone);
 * `what` names what it guards in the message when another process holds it.
 */
export async function lockFile(path: string, what: string, wait: LockWait): Promise<() => Promise<void>> {
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  const deadline = Date.now() + (wait.mode === 'fail' ? 0 : wait.timeoutMs);
  let delay = 50;
  for (;;) {
    if (await tryCreate(path, me)) return () => unlink(path).catch(cleanupFailed(`removing the lock file ${path}`));
    const holder = await readHolder(path);
    if (holder && isStale(holder)) {
      await takeOverStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) throw heldError(what, path, holder, wait);
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 500);
  }
}

async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(JSON.stringify(me));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    // Missing (just released) or half-written (just created): treat as held, look again soon.
    return undefined;
  }
}

function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false; // Another machine's pid means nothing here.
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Move the stale file aside rather than unlinking it, then check that what we moved is
 * the stale holder's: if a live process created a fresh lock in between, put it back.
 */
async function takeOverStale(path: string, stale: LockHolder): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch {
    return; // Someone else took it over first.
  }
  const moved = await readHolder(aside);
  if (moved && (moved.pid !== stale.pid || moved.since !== stale.since)) await rename(aside, path).catch(cleanupFailed(`putting back the lock file ${path}`));
  else await unlink(aside).catch(cleanupFailed(`removing the stale lock file ${aside}`));
}

function heldError(what: string, path: string, holder: LockHolder | undefined, wait: LockWait): LockTimeoutError {
  const who = holder ? `process ${holder.pid} on ${holder.host} (${holder.command || 'unknown command'}, since ${holder.since})` : 'another process';
  const waited = wait.mode === 'fail' ? 'lock mode is "fail"' : `waited ${formatDuration(wait.timeoutMs)}`;
  return new LockTimeoutError(
    `${what} is in use by ${who}; ${waited}. ` +
      `Wait for that process to finish and retry, or, if it no longer runs, delete ${path}.`,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
