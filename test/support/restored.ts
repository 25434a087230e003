/** What a `--into` restore made, read outside the tool: the orders in the new database (server) or folder (embedded); dropping it. */
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { TestDatabase } from './databases.ts';

export async function restoredOrders(kind: string, db: TestDatabase, name: string): Promise<number> {
  if (kind === 'server') {
    const url = new URL(db.url!);
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0].n;
    } finally {
      await client.end();
    }
  }
  const restored = await PGlite.create(name);
  try {
    return (await restored.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0].n;
  } finally {
    await restored.close();
  }
}

export async function dropDatabase(db: TestDatabase, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
