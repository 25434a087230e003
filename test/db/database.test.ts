import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, redactUrl, lockEnvironment, withTransaction } from '../../actions/engine/db/index.ts';
import { DatabaseError, LockTimeoutError, UserError } from '../../actions/engine/errors.ts';
import { databaseTargets, testEnvironment, type TestDatabase } from '../support/databases.ts';

describe('redactUrl', () => {
  it('hides passwords and secret parameters, keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cr%40t@db.example.com:5432/prod?sslmode=require&password=x')).toBe(
      'postgres://app:***@db.example.com:5432/prod?sslmode=require&password=***',
    );
    expect(redactUrl('postgres://db.example.com/prod')).toBe('postgres://db.example.com/prod');
    expect(redactUrl('host=db password=hunter2 user=app')).toBe('host=db password=*** user=app');
  });
});

describe('openDatabase', () => {
  it('names the missing variable and how to set it', async () => {
    const env = testEnvironment({ kind: 'url', urlEnv: 'STAGING_DATABASE_URL' }, { name: 'staging', file: 'environments/staging.yaml' });
    const error = await openDatabase(env, { root: '/tmp', processEnv: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/STAGING_DATABASE_URL is not set\. environments\/staging\.yaml .* export STAGING_DATABASE_URL=/);
  });

  it('reports a connection failure without the password', async () => {
    const env = testEnvironment({ kind: 'url', urlEnv: 'DB_URL' });
    const db = await openDatabase(env, { root: '/tmp', processEnv: { DB_URL: 'postgres://app:hunter2@127.0.0.1:1/nowhere' } });
    const error = await db.connect().catch((e: unknown) => e);
    await db.close();
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('postgres://app:***@127.0.0.1:1/nowhere');
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe.each(databaseTargets())('database layer on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('connects with pg, runs transactions, and takes the environment lock', async () => {
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      expect(database.label).not.toMatch(/:[^:@/]+@/);
      const client = await database.connect();
      await client.query('CREATE TABLE t (a int)');
      await withTransaction(client, (c) => c.query('INSERT INTO t VALUES (1)'));
      await expect(withTransaction(client, async (c) => {
        await c.query('INSERT INTO t VALUES (2)');
        throw new Error('undo');
      })).rejects.toThrow('undo');
      expect((await client.query('SELECT a FROM t')).rows).toEqual([{ a: 1 }]);
      const release = await lockEnvironment(client, 'staging', { mode: 'fail', timeoutMs: 0 });
      if (database.kind === 'url') {
        // PGlite has one session, so only a real server can show a second session being refused.
        const other = await database.connect();
        const error = await lockEnvironment(other, 'staging', { mode: 'wait', timeoutMs: 200 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LockTimeoutError);
        expect((error as Error).message).toMatch(/Environment "staging" is locked by pid \d+ \("rollout test"/);
        await (await lockEnvironment(other, 'production', { mode: 'fail', timeoutMs: 0 }))();
      }
      await release();
    } finally {
      await database.close();
    }
  });

  it.runIf(target.name === 'embedded')('refuses a second open of the same data directory in fail mode, naming the holder', async () => {
    const first = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const error = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv, wait: { mode: 'fail', timeoutMs: 0 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as Error).message).toContain(`in use by process ${process.pid}`);
    } finally {
      await first.close();
    }
  });
});
