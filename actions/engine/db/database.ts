import type pg from 'pg';

/** An open database of one environment: embedded (PGlite) or a real server, both spoken to with `pg`. */
export interface Database {
  kind: 'embedded' | 'url';
  /** Where the database is, redacted: safe to print. */
  label: string;
  /** A new connected client; the caller ends it (or `close()` ends all still open). */
  connect(): Promise<pg.Client>;
  /** Write a backup into `directory` and return the file's path; throws if it could not be made. */
  backup(directory: string): Promise<string>;
  /** End every client still open, stop the embedded server and release the data directory. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Repository root: relative paths in the environment resolve against it. */
  root: string;
  processEnv?: NodeJS.ProcessEnv;
  /** Shown in pg_stat_activity, so that a lock holder can be named. */
  applicationName?: string;
  /**
   * How to wait for an embedded data directory another process has open.
   * Defaults to the environment's migrations.advisoryLock settings.
   */
  wait?: { mode: 'wait' | 'fail'; timeoutMs: number };
}

/** Track clients so that close() can end the ones a caller forgot. */
export class ClientSet {
  private readonly clients = new Set<pg.Client>();

  add(client: pg.Client): pg.Client {
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  async endAll(): Promise<void> {
    await Promise.all([...this.clients].map((client) => client.end().catch(() => undefined)));
    this.clients.clear();
  }
}
