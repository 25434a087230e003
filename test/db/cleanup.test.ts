/** Cleanup failures (a ROLLBACK or an unlock on a connection that died) are reported as warnings, never swallowed, never in place of the error. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupFailed, reportCleanupWarningsTo } from '../../actions/engine/cleanup.ts';
import { lockEnvironment, openDatabase, withTransaction } from '../../actions/engine/db/index.ts';
import { cli } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';

describe('cleanup warnings', () => {
  it('go to the sink the adapter set, with what failed and why, and the sink is restored after', () => {
    const seen: string[] = [];
    const restore = reportCleanupWarningsTo((m) => seen.push(m));
    cleanupFailed('releasing the lock')(new Error('connection terminated'));
    restore();
    expect(seen).toEqual(['releasing the lock failed during cleanup: connection terminated']);
    const after: string[] = [];
    const restoreAfter = reportCleanupWarningsTo((m) => after.push(m));
    cleanupFailed('x')('a string');
    restoreAfter();
    expect(after).toEqual(['x failed during cleanup: a string']);
  });

  it('are routed by the CLI while a command runs, and the sink it replaced is restored after', async () => {
    const seen: string[] = [];
    const outer = reportCleanupWarningsTo((m) => seen.push(m));
    try {
      const run = await cli(['--version']);
      expect(run.code).toBe(0);
      // The CLI restored the sink it replaced.
      cleanupFailed('after the CLI')(new Error('boom'));
      expect(seen).toEqual(['after the CLI failed during cleanup: boom']);
    } finally {
      outer();
    }
  });
});

describe.each(databaseTargets())('cleanup on a dead connection on $name', (target) => {
  let db: TestDatabase;
  let warnings: string[];
  let restore: () => void;
  beforeEach(async () => {
    db = await target.create();
    warnings = [];
    restore = reportCleanupWarningsTo((m) => warnings.push(m));
  });
  afterEach(async () => {
    restore();
    await db.dispose();
  });

  it('a failed ROLLBACK is a warning, and the original error is the one thrown', async () => {
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      const failed = withTransaction(client, async (c) => {
        await (c as unknown as { end(): Promise<void> }).end();
        throw new Error('the work failed');
      });
      await expect(failed).rejects.toThrow('the work failed');
      expect(warnings).toEqual([expect.stringMatching(/^ROLLBACK after a failed transaction failed during cleanup: .*not queryable/)]);
    } finally {
      await database.close();
    }
  });

  it('an advisory unlock that cannot run is a warning that names the environment', async () => {
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      const release = await lockEnvironment(client, 'staging', { mode: 'fail', timeoutMs: 0 });
      await client.end();
      await release();
      expect(warnings).toEqual([expect.stringMatching(/^releasing the lock of environment "staging" \(it ends with the session\) failed during cleanup: /)]);
    } finally {
      await database.close();
    }
  });
});
