import type pg from 'pg';
import { cleanupFailed } from '../cleanup.ts';
import type { PreservedObjects } from '../restore/toc.ts';

/** An open database of one environment: embedded (PGlite) or a real server, both spoken to with `pg`. */
export interface Database {
  kind: 'embedded' | 'url';
  /** Where the database is, redacted: safe to print. */
  label: string;
  /**
   * A new connected client; the caller ends it (or `close()` ends all still open). `pipeline`:
   * node-pg's pipeline mode, which writes each query without waiting for the answers before it.
   */
  connect(options?: { pipeline?: boolean }): Promise<pg.Client>;
  /** Write a backup into `directory` and return the file's path; throws if it could not be made. */
  backup(directory: string): Promise<string>;
  /**
   * Begin replacing the database's contents with a backup `backup()` wrote; see RestoreTarget.
   * A server restores in place in one transaction and leaves `keep` as they are live; the
   * embedded database is restored into a data directory of its own beside the environment's
   * (the caller carries `keep`'s rows over into it), which `commit()` swaps in.
   */
  restore(file: string, keep: PreservedObjects | null): Promise<RestoreTarget>;
  /**
   * Restore a backup into a new database (server: a database name; embedded: a folder). A
   * target that exists is refused, unless it bears exactly `marks.replaces` (the mark of the
   * unfinished restore this one reruns): then it is dropped first, with a warning. Once the
   * target is known to be free, `marks.begin()` records the intent and returns this restore's
   * mark, put on the target (COMMENT ON DATABASE; a marker file) before anything is restored
   * into it. A refusal calls no `begin()`, so records nothing. Returns where, safe to print.
   */
  restoreInto(file: string, into: string, marks: IntoMarks): Promise<string>;
  /**
   * Stop a statement that outlived its deadline. A server times statements out itself, so
   * this does nothing there; the embedded database cannot, so its worker is terminated and
   * the next connect() reopens it: every connection open until then is closed.
   */
  interrupt(): Promise<void>;
  /** End every client still open, stop the embedded server and release the data directory. */
  close(): Promise<void>;
}

/** How a `--into` restore marks its target, and which existing target it may drop (restore/into-mark.ts). */
export interface IntoMarks {
  replaces?: string;
  begin(): Promise<string>;
}

/**
 * A restore in progress: the backup restored, the outcome not yet written. Written on `client`,
 * then made the environment's by `commit()`, so that the outcome and the data it describes
 * become the environment's in the same step wherever that is possible.
 */
export interface RestoreTarget {
  /** A client on the restored database: where the kept rows and the outcome are written. */
  client: pg.Client;
  /** True when `keep` was left in place (server); false when the caller must write its rows back (embedded). */
  keptInPlace: boolean;
  /** Embedded: where the data directory as it was is kept once `commit()` has swapped. */
  aside?: string;
  /** True once the environment's data was replaced: on a server at once (pg_restore committed); embedded, by `commit()`. */
  readonly replaced: boolean;
  /** Make the restored database the environment's: nothing left to do on a server; embedded, the swap (data-dir-swap.ts). */
  commit(): Promise<void>;
  /** Drop what was prepared and not committed (the embedded restored copy); the environment's data was not touched. */
  abandon(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Repository root: relative paths in the environment resolve against it. */
  root: string;
  processEnv: NodeJS.ProcessEnv;
  /** Shown in pg_stat_activity, so that a lock holder can be named. */
  applicationName?: string;
  /**
   * How to wait for an embedded data directory another process has open.
   * Defaults to the environment's migrations.advisoryLock settings.
   */
  wait?: { mode: 'wait' | 'fail'; timeoutMs: number };
}

/** Clients whose connection ended or broke: a query on them fails at once, so callers reconnect. */
const closed = new WeakSet<pg.ClientBase>();

/** False once the client's connection has ended or broken (the server went away, the embedded database restarted). */
export function isOpen(client: pg.ClientBase): boolean {
  return !closed.has(client);
}

/** Track clients so that close() can end the ones a caller forgot. */
export class ClientSet {
  private readonly clients = new Set<pg.Client>();

  /**
   * Listen for a broken connection before connecting: without an 'error' listener, a socket
   * that resets while the client is idle (a terminated backend, a restarted embedded
   * database) is an unhandled 'error' event that ends the process.
   */
  watch(client: pg.Client): pg.Client {
    client.on('error', () => closed.add(client));
    client.once('end', () => closed.add(client));
    return client;
  }

  add(client: pg.Client): pg.Client {
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  async endAll(): Promise<void> {
    await Promise.all([...this.clients].map((client) => client.end().catch(cleanupFailed('closing a database connection'))));
    this.clients.clear();
  }
}
