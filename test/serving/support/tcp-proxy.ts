/**
 * A loopback TCP proxy between a service and its database, which the test controls: cut every
 * connection and refuse new ones (the database is down), swallow traffic without closing
 * anything (a network partition: only a timeout notices), or point at a new address (the
 * database restarted elsewhere).
 */
import net from 'node:net';

export type ProxyMode = 'up' | 'down' | 'blackhole';

export class TcpProxy {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  private mode: ProxyMode = 'up';
  port = 0;

  constructor(private target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  /** A URL like `url` but through the proxy. */
  urlFor(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  /** How many client connections are open through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  /** The database is down: every connection is cut and new ones are refused. */
  down(): void {
    this.mode = 'down';
    for (const pair of this.pairs) this.cut(pair);
  }

  /** A partition: connections stay open, nothing gets through either way. */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const pair of this.pairs) {
      pair.client.unpipe();
      pair.upstream?.unpipe();
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  /** Back to normal for new connections (connections cut or swallowed stay so). */
  up(target?: { host: string; port: number }): void {
    if (target) this.target = target;
    if (this.mode === 'blackhole') for (const pair of this.pairs) this.cut(pair);
    this.mode = 'up';
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.cut(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'down') {
      client.destroy();
      return;
    }
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
    this.pairs.add(pair);
    client.on('close', () => this.cut(pair));
    if (this.mode === 'blackhole') {
      client.pause();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => this.cut(pair));
    upstream.on('close', () => this.cut(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private cut(pair: { client: net.Socket; upstream?: net.Socket }): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
