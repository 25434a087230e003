/**
 * The deny list's catalog half (checks/deny-list.ts privilegedFunctions): what Postgres
 * withholds from PUBLIC in pg_catalog is in it, a function with the default ACL or with
 * EXECUTE granted back to PUBLIC is not. On the embedded database and, with TEST_DATABASE_URL,
 * a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import { privilegedFunctions } from '../../actions/engine/checks/deny-list.ts';

describe.each(databaseTargets())('the catalog deny list on $name', (target) => {
  let db: TestDatabase;
  let database: Database;
  let client: pg.Client;
  beforeAll(async () => {
    db = await target.create();
    database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    client = await database.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.close();
    await db?.dispose();
  });

  it('holds what PUBLIC may not execute in pg_catalog, not what it may', async () => {
    // pg_catalog functions whose ACL says so, as the catalog itself answers it.
    const { rows } = await client.query<{ name: string }>(
      "SELECT DISTINCT proname::text AS name FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace AND NOT has_function_privilege('public', oid, 'EXECUTE')",
    );
    const denied = await privilegedFunctions(client);
    expect(rows.length).toBeGreaterThan(0);
    for (const { name } of rows) expect(denied.has(name.toLowerCase()), name).toBe(true);
    expect(denied.has('pg_read_file')).toBe(true);
    // The default ACL (NULL) and a REVOKE undone by a GRANT both let PUBLIC execute.
    expect(denied.has('lower')).toBe(false);
    await client.query('REVOKE EXECUTE ON FUNCTION pg_catalog.md5(text) FROM PUBLIC');
    expect((await privilegedFunctions(client)).has('md5')).toBe(true);
    await client.query('GRANT EXECUTE ON FUNCTION pg_catalog.md5(text) TO PUBLIC');
    expect((await privilegedFunctions(client)).has('md5')).toBe(false);
  });
});
