/**
 * Keeps a DefinitionSet equal to rollout.flag_definitions: one connection that LISTENs on
 * rollout_flags and re-reads the keys each notice names (or everything, when it names none),
 * a periodic re-read as the fallback (a lost notice, a database where NOTIFY does not reach
 * other connections, a half-open socket that only a query timeout reveals), and, when the
 * connection is lost, reconnection with exponential backoff followed by a full re-read, so
 * whatever changed meanwhile is caught up. Reads are serialised: a slower, older read can
 * never overwrite a newer one.
 */
import pg from 'pg';
import type { DefinitionSet } from './evaluator.ts';
import { CHANNEL, SELECT_ALL, SELECT_KEYS, SELECT_SUMMARY, parseNotice, type DefinitionRows } from './queries.ts';

export interface SyncOptions {
  /** Everything pg needs to connect (connectionString, ssl, …). */
  connection: pg.ClientConfig;
  pollIntervalMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  queryTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface SyncListener {
  /** Definitions of these keys were added, changed or removed. */
  changed(keys: string[]): void;
  /** Connected (again) and caught up with a full read. */
  connected(): void;
  /** The connection was lost (or a (re)connection failed); the sync keeps retrying. */
  disconnected(error: Error): void;
}

/** Connection failures that retrying cannot fix (bad credentials): the first start fails for good. */
const FATAL_SQLSTATES = new Set(['28000', '28P01']);

export class FatalSyncError extends Error {}

export class DefinitionSync {
  private client: pg.Client | undefined;
  /** The client of a connection attempt in progress. */
  private connecting: pg.Client | undefined;
  private isConnected = false;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pendingAll = false;
  private readonly pendingKeys = new Set<string>();
  private pendingProbe = false;
  private draining: Promise<void> | undefined;
  /** Whether the current outage was reported (one `disconnected` per outage). */
  private outageReported = false;

  constructor(
    private readonly definitions: DefinitionSet,
    private readonly options: SyncOptions,
    private readonly listener: SyncListener,
  ) {}

  get connected(): boolean {
    return this.isConnected;
  }

  /**
   * Connect and read everything once. Rejects when that first attempt fails, but keeps
   * retrying in the background (unless the failure is fatal): a later success calls
   * `connected`, as after any outage.
   */
  async start(): Promise<void> {
    this.pollTimer = setInterval(() => this.poll(), this.options.pollIntervalMs);
    this.pollTimer.unref();
    try {
      await this.connect();
    } catch (error) {
      const failure = toError(error);
      if (isFatal(error)) {
        await this.stop();
        throw new FatalSyncError(failure.message, { cause: error });
      }
      this.outageReported = true;
      this.scheduleReconnect();
      throw failure;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    this.isConnected = false;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      ...this.options.connection,
      keepAlive: true,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      query_timeout: this.options.queryTimeoutMs,
    });
    // A lost connection surfaces as 'error' and/or 'end'; either starts one reconnection.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the connection to the database was closed')));
    client.on('notification', (message) => {
      // Notices that arrive while the first read runs are kept: that read may predate their commit.
      if (message.channel !== CHANNEL || (client !== this.client && client !== this.connecting)) return;
      const notice = parseNotice(message.payload);
      if (notice.keys === undefined) this.pendingAll = true;
      else for (const key of notice.keys) this.pendingKeys.add(key);
      if (client === this.client) this.drain();
    });
    this.connecting = client;
    try {
      await client.connect();
      if (this.stopped) throw new Error('stopped');
      // LISTEN before reading: a change committed after the read is then always noticed.
      await client.query(`LISTEN ${CHANNEL}`);
      const rows = await readDefinitions(client, SELECT_ALL, []);
      if (this.stopped) throw new Error('stopped');
      this.connecting = undefined;
      this.client = client;
      this.isConnected = true;
      this.attempt = 0;
      const changed = this.definitions.replaceAll(rows);
      const wasOut = this.outageReported;
      this.outageReported = false;
      if (wasOut) this.listener.connected();
      if (changed.length > 0 && wasOut) this.listener.changed(changed);
      this.drain();
    } catch (error) {
      if (this.connecting === client) this.connecting = undefined;
      client.removeAllListeners('end');
      client.removeAllListeners('notification');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    this.isConnected = false;
    client.removeAllListeners('end');
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (!this.outageReported) {
      this.outageReported = true;
      this.listener.disconnected(error);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    const ceiling = Math.min(this.options.retryBackoffMaxMs, this.options.retryBackoffMs * 2 ** this.attempt);
    // Equal jitter: many services restarting with one database do not reconnect in lockstep.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopped) return;
      this.connect().catch((error: unknown) => {
        if (this.stopped) return;
        if (!this.outageReported) {
          this.outageReported = true;
          this.listener.disconnected(toError(error));
        }
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  /** The fallback: when the view's summary moved without a notice, re-read everything. */
  private poll(): void {
    if (!this.client) return;
    this.pendingProbe = true;
    this.drain();
  }

  /** Work through pending notices and probes one query at a time: the connection is never shared. */
  private drain(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (this.client && (this.pendingAll || this.pendingKeys.size > 0 || this.pendingProbe)) {
        const client = this.client;
        try {
          if (!this.pendingAll && this.pendingKeys.size === 0) {
            this.pendingProbe = false;
            const result = await client.query<{ summary: string }>(SELECT_SUMMARY);
            if (client === this.client && result.rows[0]?.summary !== this.definitions.summary()) this.pendingAll = true;
            continue;
          }
          const all = this.pendingAll;
          const keys = [...this.pendingKeys];
          this.pendingAll = false;
          this.pendingKeys.clear();
          const rows = await readDefinitions(client, all ? SELECT_ALL : SELECT_KEYS, all ? [] : [keys]);
          if (client !== this.client) break;
          const changed = all ? this.definitions.replaceAll(rows) : this.definitions.replaceKeys(keys, rows);
          if (changed.length > 0) this.listener.changed(changed);
        } catch (error) {
          // The reconnection re-reads everything, so nothing pending is lost.
          this.lost(client, toError(error));
          break;
        }
      }
    })().finally(() => {
      this.draining = undefined;
    });
  }
}

// Unnamed statements on purpose: on the embedded database every connection shares one
// session, where a named prepared statement of one connection collides with another's.
async function readDefinitions(client: pg.Client, sql: string, params: unknown[]): Promise<DefinitionRows> {
  return (await client.query(sql, params)).rows as DefinitionRows;
}

function isFatal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FATAL_SQLSTATES.has(code);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
