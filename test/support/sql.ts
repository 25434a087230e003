/** One query against a test database, through the same openDatabase path the tool uses. */
import { openDatabase } from '../../actions/engine/db/index.ts';
import type { TestDatabase } from './databases.ts';

export async function sql<T>(db: TestDatabase, text: string, values: unknown[] = []): Promise<T[]> {
  const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
  try {
    const client = await database.connect();
    return (await client.query(text, values)).rows as T[];
  } finally {
    await database.close();
  }
}
