/**
 * The embedded restore's swap, on folders alone (no database: the renames and the journal are
 * the whole of it): what settleInterruptedSwap does with what each crash leaves, and that it
 * waits for, rather than touches, a swap whose process still runs. The crashes themselves, in a
 * real restore killed by SIGKILL, are in restore-crash.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportCleanupWarningsTo } from '../../actions/engine/cleanup.ts';
import { LockTimeoutError } from '../../actions/engine/errors.ts';
import { lockFile } from '../../actions/engine/db/data-dir-lock.ts';
import { asideDirOf, restoringDirOf, settleInterruptedSwap, swapDataDir } from '../../actions/engine/db/data-dir-swap.ts';

const FAIL = { mode: 'fail', timeoutMs: 0 } as const;

describe('settling an interrupted data directory swap', () => {
  let root: string;
  let dir: string;
  let restored: string;
  let aside: string;
  let warnings: string[];
  let restoreWarnings: () => void;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-swap-'));
    dir = join(root, 'db');
    restored = restoringDirOf(dir);
    aside = asideDirOf(dir, new Date('2026-12-04T01:00:00Z'));
    await mkdir(dir);
    await writeFile(join(dir, 'which'), 'old');
    await writeFile(join(dir, '.rollout.lock'), 'held');
    await mkdir(restored);
    await writeFile(join(restored, 'which'), 'restored');
    warnings = [];
    restoreWarnings = reportCleanupWarningsTo((message) => warnings.push(message));
  });
  afterEach(async () => {
    restoreWarnings();
    await rm(root, { recursive: true, force: true });
  });

  /** A journal as a process that is gone (pid 2^22 + 1, above Linux's pid_max) would have left it. */
  const journal = (): Promise<void> =>
    writeFile(`${dir}.restore-swap.json`, JSON.stringify({ pid: 4_194_305, host: hostname(), since: '2026-12-04T01:00:00.000Z', restored, aside }));
  const which = (): Promise<string> => readFile(join(dir, 'which'), 'utf8');

  it('swaps, leaving no journal and the old data aside without its lock file', async () => {
    await swapDataDir(dir, restored, aside);
    expect(await which()).toBe('restored');
    expect(await readFile(join(aside, 'which'), 'utf8')).toBe('old');
    expect(existsSync(join(aside, '.rollout.lock'))).toBe(false);
    expect(existsSync(`${dir}.restore-swap.json`)).toBe(false);
    expect(existsSync(restored)).toBe(false);
  });

  it('does nothing without a journal', async () => {
    await settleInterruptedSwap(dir, FAIL);
    expect(await which()).toBe('old');
    expect(existsSync(restored)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('killed before the first rename: undoes it, keeping the data directory as it was', async () => {
    await journal();
    await settleInterruptedSwap(dir, FAIL);
    expect(await which()).toBe('old');
    expect(existsSync(restored)).toBe(false);
    expect(existsSync(`${dir}.restore-swap.json`)).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/^a restore \(process 4194305, started 2026-12-04T01:00:00\.000Z\) stopped before its backup took the place of .*db: the data directory is as it was .*Removed the restored copy .*db\.restoring\.$/)]);
  });

  it('killed between the renames: finishes it', async () => {
    await journal();
    await rename(dir, aside);
    expect(existsSync(dir)).toBe(false);
    await settleInterruptedSwap(dir, FAIL);
    expect(await which()).toBe('restored');
    expect(await readFile(join(aside, 'which'), 'utf8')).toBe('old');
    expect(existsSync(join(aside, '.rollout.lock'))).toBe(false);
    expect(existsSync(`${dir}.restore-swap.json`)).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/stopped between moving .*db aside and moving the restored data directory in: finished it\. .*db is the restored data directory .*the one before it is in .*db\.before-restore-20261204T010000Z\.$/)]);
  });

  it('killed after both renames: only removes the journal', async () => {
    await journal();
    await rename(dir, aside);
    await rename(restored, dir);
    await settleInterruptedSwap(dir, FAIL);
    expect(await which()).toBe('restored');
    expect(existsSync(`${dir}.restore-swap.json`)).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/stopped after its backup took the place of .*: the restore is complete/)]);
  });

  it('with neither folder left, touches nothing and says where the old data is', async () => {
    await journal();
    await rename(dir, aside);
    await rm(restored, { recursive: true });
    await expect(settleInterruptedSwap(dir, FAIL)).rejects.toThrow(/left neither .*db nor the restored data directory .* should be in .*db\.before-restore-20261204T010000Z: move it back/);
    expect(existsSync(`${dir}.restore-swap.json`)).toBe(true);
  });

  it('leaves a swap whose process still runs alone: it holds the swap lock', async () => {
    await journal();
    await rename(dir, aside);
    const release = await lockFile(`${dir}.restore-swap.lock`, 'test', FAIL);
    try {
      await expect(settleInterruptedSwap(dir, FAIL)).rejects.toThrow(LockTimeoutError);
      await expect(settleInterruptedSwap(dir, FAIL)).rejects.toThrow(/The restore of .*db is in use by process \d+/);
    } finally {
      await release();
    }
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(restored)).toBe(true);
  });
});
