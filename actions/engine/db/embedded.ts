/**
 * The embedded database: PGlite (single-user WASM Postgres) with its data in a directory,
 * served over a loopback socket so that the rest of the tool speaks `pg` to it exactly as
 * to a real server. pglite-socket multiplexes every connection onto PGlite's one session:
 * session settings and advisory locks are shared between them (see docs/migrations.md).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPg } from './pg.ts';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DatabaseError, toError } from '../errors.ts';
import { ClientSet, type Database } from './database.ts';
import { lockDataDir, type LockWait } from './data-dir-lock.ts';
import { backupFileName } from './backup-name.ts';
import { loadPgliteExtensions } from './pglite-extensions.ts';

/** More than one tool connection is normal (a lock session plus a work session). */
const MAX_CONNECTIONS = 32;

/** `extensions`: the extensions to load (pglite-extensions.ts); loading none keeps start-up at its fastest. */
export async function openEmbedded(dir: string, environment: string, applicationName: string, wait: LockWait, extensions: readonly string[] = []): Promise<Database> {
  await mkdir(dir, { recursive: true });
  const release = await lockDataDir(dir, wait);
  let pglite: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    pglite = await PGlite.create(dir, extensions.length > 0 ? { extensions: await loadPgliteExtensions(extensions) } : {});
    server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: MAX_CONNECTIONS });
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => undefined);
    await pglite?.close().catch(() => undefined);
    await release();
    throw new DatabaseError(`Could not open the embedded database in ${dir}: ${toError(error).message}`, { cause: error });
  }
  const db = pglite;
  const socket = server;
  const [host, port] = splitHostPort(socket.getServerConn());
  const clients = new ClientSet();
  const label = `embedded database in ${dir}`;

  return {
    kind: 'embedded',
    label,
    async connect() {
      const pg = await loadPg();
      const client = new pg.Client({ host, port, user: 'postgres', database: 'postgres', application_name: applicationName });
      try {
        await client.connect();
      } catch (error) {
        throw new DatabaseError(`Could not connect to the ${label}: ${toError(error).message}`, { cause: error });
      }
      return clients.add(client);
    },
    async backup(directory) {
      await mkdir(directory, { recursive: true });
      const file = join(directory, backupFileName(environment, 'tar.gz'));
      // dumpDataDir checkpoints and tars the data directory from inside PGlite: a consistent copy while open.
      const dump = await db.dumpDataDir('gzip');
      await writeFile(file, Buffer.from(await dump.arrayBuffer()));
      return file;
    },
    async close() {
      await clients.endAll();
      await socket.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
      await release();
    },
  };
}

function splitHostPort(conn: string): [string, number] {
  const at = conn.lastIndexOf(':');
  return [conn.slice(0, at), Number(conn.slice(at + 1))];
}
