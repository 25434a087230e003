/**
 * A connection that drops under an idle client — its backend terminated on a server, the
 * embedded database stopped by interrupt() — never ends the process (an 'error' event with
 * no listener would); the next connect() works, and the session's writer() reconnects and
 * takes the environment lock again. Vitest fails the run on any unhandled error, so a crash
 * here is a failure.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { isOpen } from '../../actions/engine/db/database.ts';
import { environmentLockKey } from '../../actions/engine/db/advisory-lock.ts';
import { withSession } from '../../actions/engine/session.ts';
import { databaseTargets } from '../support/databases.ts';

const closed = (client: { once(event: 'end', listener: () => void): unknown }) => new Promise<void>((resolve) => client.once('end', resolve));

describe.each(databaseTargets())('a dropped connection, on $name', (target) => {
  it('leaves the process running and the database reachable', async () => {
    const db = await target.create();
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const idle = await database.connect();
      const gone = closed(idle);
      if (target.name === 'embedded') {
        await database.interrupt();
      } else {
        const admin = await database.connect();
        const { rows } = await idle.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      }
      await gone;
      expect(isOpen(idle)).toBe(false);
      await expect(idle.query('SELECT 1')).rejects.toThrow();
      const fresh = await database.connect();
      expect((await fresh.query<{ ok: number }>('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await database.close();
      await db.dispose();
    }
  });

  it("gives the session a working writer that holds the environment's lock again", async () => {
    const db = await target.create();
    try {
      await withSession(db.env, { root: db.root, processEnv: db.processEnv, lock: true }, async (session) => {
        const first = session.client;
        expect(await session.writer()).toBe(first);
        const gone = closed(first);
        if (target.name === 'embedded') await session.db.interrupt();
        else {
          const admin = await session.db.connect();
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()');
        }
        await gone;
        const writer = await session.writer();
        expect(writer).not.toBe(first);
        const key = environmentLockKey(db.env.name);
        const unsigned = BigInt.asUintN(64, key);
        const { rows } = await writer.query<{ held: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
                           AND classid::bigint = $1::bigint AND objid::bigint = $2::bigint) AS held`,
          [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()],
        );
        expect(rows).toEqual([{ held: true }]);
      });
    } finally {
      await db.dispose();
    }
  });
});
