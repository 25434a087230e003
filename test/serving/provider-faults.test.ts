/**
 * The provider when its database goes away: it keeps answering from the last definitions
 * (reason STALE, status STALE then ERROR), reconnects with backoff, and catches up with
 * everything committed meanwhile. The database is reached through a TCP proxy the test
 * controls (down, partitioned, moved), or terminated / dropped on the server itself.
 */
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type Client } from '@openfeature/server-sdk';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RolloutProvider, type RolloutProviderOptions } from '../../packages/provider/src/provider.ts';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { databaseTargets } from '../support/databases.ts';
import { nextChange, nextEvent, recordEvents } from './support/events.ts';
import { installDefinitions, servingTargets, writeDefinitions, type ServingDatabase } from './support/definitions.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const flag = (key: string, fields: Partial<FlagDefinition> = {}): FlagDefinition => ({ key, value: true, offValue: false, stage: null, percent: 0, segments: [], killSwitch: false, ledgerId: null, ...fields });

let domains = 0;
const FAST: Partial<RolloutProviderOptions> = { retryBackoffMs: 50, retryBackoffMaxMs: 200, retryGracePeriodMs: 200, queryTimeoutMs: 1_000, connectTimeoutMs: 1_000 };

async function bind(provider: RolloutProvider, wait = true): Promise<Client> {
  const domain = `rollout-faults-${process.pid}-${domains++}`;
  if (wait) await OpenFeature.setProviderAndWait(domain, provider);
  else OpenFeature.setProvider(domain, provider);
  return OpenFeature.getClient(domain);
}

function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 5432) };
}

describe.each(servingTargets())('faults on the $name database', (target) => {
  let db: ServingDatabase;
  let proxy: TcpProxy;
  const open: RolloutProvider[] = [];

  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => {
    await db?.dispose();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.onClose()));
    await proxy?.close();
  });

  async function throughProxy(options: Partial<RolloutProviderOptions> = {}, wait = true): Promise<{ provider: RolloutProvider; client: Client }> {
    proxy = await TcpProxy.start(hostPort(db.url));
    const provider = new RolloutProvider({ connectionString: proxy.urlFor(db.url), pollIntervalMs: db.notifies ? 3_600_000 : 50, ...FAST, ...options });
    open.push(provider);
    return { provider, client: await bind(provider, wait) };
  }

  it('keeps answering while the database is down, then reconnects and catches up', async () => {
    await writeDefinitions(db.writer, [flag('fault.down', { stage: 'off' }), flag('fault.other', { value: 'v1', offValue: 'v1' })]);
    const { provider, client } = await throughProxy();
    const events = recordEvents(provider);
    expect(await client.getBooleanDetails('fault.down', true, { targetingKey: 'u1' })).toMatchObject({ value: false, reason: 'DISABLED' });

    const stale = nextEvent(provider, ProviderEvents.Stale);
    const error = nextEvent(provider, ProviderEvents.Error);
    proxy.down();
    await stale;
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    // Last good definitions, said to be stale; a missing flag is still FLAG_NOT_FOUND.
    expect(await client.getBooleanDetails('fault.down', true, { targetingKey: 'u1' })).toMatchObject({ value: false, variant: 'off', reason: 'STALE' });
    expect(await client.getStringDetails('fault.other', 'x')).toMatchObject({ value: 'v1', reason: 'STALE' });
    expect((await client.getBooleanDetails('fault.none', true)).errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);
    await error;
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await client.getBooleanDetails('fault.down', true)).toMatchObject({ value: false, reason: 'STALE' });

    // Committed while the provider cannot see it.
    await writeDefinitions(db.writer, [flag('fault.down', { stage: 'full' })]);
    const ready = nextEvent(provider, ProviderEvents.Ready);
    const caughtUp = nextChange(provider, 'fault.down');
    proxy.up();
    await ready;
    expect(await caughtUp).toEqual(['fault.down']);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('fault.down', false)).toMatchObject({ value: true, reason: 'STATIC' });
    expect(events.map((e) => e.type)).toEqual([ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]);

    // And it listens again.
    const again = nextChange(provider, 'fault.other');
    await writeDefinitions(db.writer, [flag('fault.other', { value: 'v2', offValue: 'v2' })]);
    await again;
    expect(await client.getStringValue('fault.other', 'x')).toBe('v2');
  });

  it('notices a partition (nothing answers, nothing closes) by its query timeout', async () => {
    await writeDefinitions(db.writer, [flag('fault.partition', { stage: 'full' })]);
    const { provider, client } = await throughProxy({ pollIntervalMs: 100, queryTimeoutMs: 300 });
    const stale = nextEvent(provider, ProviderEvents.Stale);
    proxy.blackhole();
    await stale;
    expect(await client.getBooleanDetails('fault.partition', false)).toMatchObject({ value: true, reason: 'STALE' });
    const ready = nextEvent(provider, ProviderEvents.Ready);
    proxy.up();
    await ready;
    expect(await client.getBooleanDetails('fault.partition', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('starts while the database is unreachable: ERROR, then READY with the definitions once it answers', async () => {
    await writeDefinitions(db.writer, [flag('fault.late', { stage: 'full' })]);
    proxy = await TcpProxy.start(hostPort(db.url));
    proxy.down();
    const provider = new RolloutProvider({ connectionString: proxy.urlFor(db.url), pollIntervalMs: db.notifies ? 3_600_000 : 50, ...FAST });
    open.push(provider);
    const domain = `rollout-faults-${process.pid}-${domains++}`;
    await expect(OpenFeature.setProviderAndWait(domain, provider)).rejects.toThrow(/could not read flag definitions yet/);
    const client = OpenFeature.getClient(domain);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await client.getBooleanDetails('fault.late', false)).toMatchObject({ value: false, errorCode: ErrorCode.PROVIDER_NOT_READY });
    const ready = nextEvent(provider, ProviderEvents.Ready);
    proxy.up();
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('fault.late', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('reconnects to a database that restarted (a new server process behind the same address)', async () => {
    if (target.name === 'server') {
      // The server's restart, as far as a client can tell: every backend of the provider is terminated.
      await writeDefinitions(db.writer, [flag('fault.restart', { stage: 'off' })]);
      const provider = new RolloutProvider({ connectionString: db.url, environment: 'restart-test', pollIntervalMs: 3_600_000, ...FAST });
      open.push(provider);
      const client = await bind(provider);
      const stale = nextEvent(provider, ProviderEvents.Stale);
      const ready = nextEvent(provider, ProviderEvents.Ready);
      const terminated = await db.writer.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE application_name = 'rollout-provider restart-test' AND datname = current_database()`,
      );
      expect(Number(terminated.rows[0].n)).toBeGreaterThan(0);
      await stale;
      await ready;
      const changed = nextChange(provider, 'fault.restart');
      await writeDefinitions(db.writer, [flag('fault.restart', { stage: 'full' })]);
      await changed;
      expect(await client.getBooleanValue('fault.restart', false)).toBe(true);
      return;
    }
    // Embedded: close PGlite and open the data directory again, on a new port behind the proxy.
    const base = await databaseTargets()[0].create();
    let opened = await openDatabase(base.env, { root: base.root, processEnv: base.processEnv });
    try {
      let writer = await opened.connect();
      await installDefinitions(writer);
      await writeDefinitions(writer, [flag('fault.restart', { stage: 'off' })]);
      proxy = await TcpProxy.start({ host: writer.host, port: writer.port });
      const provider = new RolloutProvider({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, pollIntervalMs: 50, ...FAST });
      open.push(provider);
      const client = await bind(provider);
      const stale = nextEvent(provider, ProviderEvents.Stale);
      proxy.down();
      await opened.close();
      await stale;
      expect(await client.getBooleanDetails('fault.restart', true)).toMatchObject({ value: false, reason: 'STALE' });
      opened = await openDatabase(base.env, { root: base.root, processEnv: base.processEnv });
      writer = await opened.connect();
      await writeDefinitions(writer, [flag('fault.restart', { stage: 'full' })]);
      const ready = nextEvent(provider, ProviderEvents.Ready);
      const changed = nextChange(provider, 'fault.restart');
      proxy.up({ host: writer.host, port: writer.port });
      await ready;
      await changed;
      expect(await client.getBooleanDetails('fault.restart', false)).toMatchObject({ value: true, reason: 'STATIC' });
    } finally {
      await Promise.all(open.splice(0).map((p) => p.onClose()));
      await opened.close();
      await base.dispose();
    }
  });

  it.runIf(target.name === 'server')('fails for good, without retrying, when the database refuses who it is (PROVIDER_FATAL)', async () => {
    const url = new URL(db.url);
    url.username = 'no_such_role_for_rollout';
    const provider = new RolloutProvider({ connectionString: url.toString(), ...FAST });
    open.push(provider);
    const domain = `rollout-faults-${process.pid}-${domains++}`;
    const failure = await OpenFeature.setProviderAndWait(domain, provider).then(() => undefined, (error: unknown) => error as { code?: string; message?: string });
    expect(failure?.code).toBe(ErrorCode.PROVIDER_FATAL);
    expect(failure?.message).toContain('no_such_role_for_rollout');
    expect(failure?.message).not.toContain('postgres://');
    expect(OpenFeature.getClient(domain).providerStatus).toBe(ProviderStatus.FATAL);
  });

  it.runIf(target.name === 'server')('survives its database being dropped and created again', async () => {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    const name = `rollout_provider_drop_${process.pid}_${Date.now()}`;
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      let writer = new pg.Client({ connectionString: url.toString() });
      await writer.connect();
      await installDefinitions(writer);
      await writeDefinitions(writer, [flag('fault.dropped', { stage: 'off' }), flag('fault.kept', { value: 1, offValue: 1 })]);
      const provider = new RolloutProvider({ connectionString: url.toString(), pollIntervalMs: 3_600_000, ...FAST });
      open.push(provider);
      const client = await bind(provider);
      const stale = nextEvent(provider, ProviderEvents.Stale);
      await writer.end();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await stale;
      expect(await client.getNumberDetails('fault.kept', 0)).toMatchObject({ value: 1, reason: 'STALE' });
      // Created and filled under another name, then renamed: the provider never sees it half made.
      const next = new URL(url);
      next.pathname = `/${name}_next`;
      await admin.query(`CREATE DATABASE ${name}_next`);
      writer = new pg.Client({ connectionString: next.toString() });
      await writer.connect();
      await installDefinitions(writer);
      await writeDefinitions(writer, [flag('fault.dropped', { stage: 'full' }), flag('fault.kept', { value: 1, offValue: 1 })]);
      await writer.end();
      const ready = nextEvent(provider, ProviderEvents.Ready);
      const changed = nextChange(provider, 'fault.dropped');
      await admin.query(`ALTER DATABASE ${name}_next RENAME TO ${name}`);
      await ready;
      await changed;
      expect(await client.getBooleanValue('fault.dropped', false)).toBe(true);
      expect(await client.getNumberDetails('fault.kept', 0)).toMatchObject({ value: 1, reason: 'STATIC' });
    } finally {
      await Promise.all(open.splice(0).map((p) => p.onClose()));
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP DATABASE IF EXISTS ${name}_next WITH (FORCE)`);
      await admin.end();
    }
  });
});
