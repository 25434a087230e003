// The embedded database's host: PGlite and its socket server, in a worker thread of their own.
//
// PGlite is Postgres compiled to WebAssembly and runs a statement to its end without ever
// yielding: statement_timeout cannot fire, and on the main thread nothing else could run
// either (no timer, no deadline). Here it blocks only this worker, which the main thread
// (embedded.ts) can terminate when a statement outlives its deadline, and then reopen on the
// same data directory. One worker serves one data directory at a time and can be reused for
// the next once closed. Plain JavaScript on purpose: a worker loads this file as it is, from
// the source tree and from the CLI bundle alike (scripts/build.mjs copies it next to the chunks).
import { Blob, Buffer } from 'node:buffer';
import { readFile, writeFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** The open database, if any: { db, server }. */
let open;

parentPort.on('message', (request) => {
  void answer(request).then(
    (result) => parentPort.postMessage({ id: request.id, ok: true, result }),
    (error) => parentPort.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});

/** Extension bundles carry setup functions, which cannot cross threads: import them here by name. */
async function importExtensions(imports) {
  const extensions = {};
  for (const { specifier, exportName } of imports ?? []) {
    const extension = (await import(specifier))[exportName];
    extensions[extension.name] = extension;
  }
  return extensions;
}

/**
 * PGlite's start parameters with another search_path. A start parameter rather than a SET:
 * every connection shares PGlite's one session, and the RESET ALL after each migration file
 * returns to the start value.
 */
function withSearchPath(searchPath) {
  const params = [...PGlite.defaultStartParams];
  const at = params.findIndex((param) => param.startsWith('search_path='));
  if (at >= 0) params[at] = `search_path=${searchPath}`;
  else params.push('-c', `search_path=${searchPath}`);
  return params;
}

/** Write files under SHAREDIR (extension control and script files) into PGlite's in-memory file system. */
async function addShareFiles(db, files) {
  const entries = Object.entries(files ?? {});
  if (entries.length === 0) return;
  const { rows } = await db.query("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'");
  for (const [path, text] of entries) db.Module.FS.writeFile(`${rows[0].setting}/${path}`, text);
}

async function answer(request) {
  switch (request.type) {
    case 'open': {
      if (open) throw new Error('a database is already open in this worker');
      const extensions = await importExtensions(request.extensions);
      const platform = request.platform;
      // The compiled module arrives with the request (embedded.ts compiles it while this thread starts).
      const { pgliteWasmModule } = request;
      const options = {
        ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
        ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
        ...(platform ? { startParams: withSearchPath(platform.searchPath) } : {}),
      };
      const db = await PGlite.create(request.dir, options);
      if (platform) {
        // Before the socket opens: no connection ever sees the database without the platform's objects.
        try {
          await addShareFiles(db, platform.shareFiles);
          await db.exec(platform.sql);
        } catch (error) {
          await db.close().catch(() => undefined);
          throw new Error(`creating the platform's objects (database.platform) failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: request.maxConnections });
      try {
        await server.start();
      } catch (error) {
        await db.close().catch(() => undefined);
        throw error;
      }
      open = { db, server };
      const conn = server.getServerConn();
      const at = conn.lastIndexOf(':');
      return { host: conn.slice(0, at), port: Number(conn.slice(at + 1)) };
    }
    case 'unpack': {
      // A backup (dumpDataDir's tarball) becomes a data directory by opening a new database from it.
      const bytes = await readFile(request.file);
      const { pgliteWasmModule } = request;
      const options = { ...(pgliteWasmModule ? { pgliteWasmModule } : {}), extensions: await importExtensions(request.extensions) };
      const db = await PGlite.create(request.dir, { ...options, loadDataDir: new Blob([bytes], { type: 'application/x-gzip' }) });
      await db.close();
      return request.dir;
    }
    case 'backup': {
      // dumpDataDir checkpoints and tars the data directory from inside PGlite: a consistent copy while open.
      const dump = await open.db.dumpDataDir('gzip');
      await writeFile(request.file, Buffer.from(await dump.arrayBuffer()));
      return request.file;
    }
    case 'close': {
      const closing = open;
      open = undefined;
      await closing?.server.stop().catch(() => undefined);
      await closing?.db.close();
      return null;
    }
    default:
      throw new Error(`unknown request ${String(request.type)}`);
  }
}
