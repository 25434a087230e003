/**
 * The OpenFeature provider, through the OpenFeature SDK, on a real database: every row of the
 * shared table of what a unit sees, the errors the spec asks for, and propagation of a
 * committed change without a restart. On the server a change reaches the provider by
 * LISTEN/NOTIFY (the periodic re-read is set to an hour, so nothing else could deliver it);
 * on the embedded database NOTIFY does not cross connections (PGlite has one session behind
 * its socket), so there the periodic re-read is what delivers it.
 */
import { ErrorCode, ProviderEvents, ProviderStatus, type Client, type EvaluationDetails, type FlagValue, type JsonValue } from '@openfeature/server-sdk';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RolloutProvider, type RolloutProviderOptions } from '../../packages/provider/src/provider.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { SERVING_CASES } from './cases.ts';
import { nextChange } from './support/events.ts';
import { connect } from './support/connect.ts';
import { removeDefinitions, servingTargets, writeDefinitions, writeRawRow, type ServingDatabase } from './support/definitions.ts';

/** Resolve through the typed resolver that fits the expected value (object for objects and arrays). */
export function details(client: Client, key: string, expected: JsonValue, context: Record<string, unknown>): Promise<EvaluationDetails<FlagValue>> {
  const ctx = context as Parameters<Client['getBooleanDetails']>[2];
  switch (typeof expected) {
    case 'boolean':
      return client.getBooleanDetails(key, !expected, ctx);
    case 'string':
      return client.getStringDetails(key, `not ${expected}`, ctx);
    case 'number':
      return client.getNumberDetails(key, -1, ctx);
    default:
      return client.getObjectDetails(key, { default: true }, ctx);
  }
}

const flag = (key: string, fields: Partial<FlagDefinition> = {}): FlagDefinition => ({ key, value: true, offValue: false, stage: null, percent: 0, segments: [], killSwitch: false, ledgerId: null, ...fields });

describe.each(servingTargets())('the provider on the $name database', (target) => {
  let db: ServingDatabase;
  const open: RolloutProvider[] = [];
  let pollIntervalMs: number;

  beforeAll(async () => {
    db = await target.open();
    pollIntervalMs = db.notifies ? 3_600_000 : 50;
  });
  afterAll(() => db?.dispose());
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.onClose()));
  });

  async function provider(options: Partial<RolloutProviderOptions> = {}): Promise<{ provider: RolloutProvider; client: Client }> {
    const connected = await connect(db.url, { pollIntervalMs, ...options });
    open.push(connected.provider);
    return connected;
  }

  it('answers every row of the shared table as the pure rule does', async () => {
    const { provider: p, client } = await provider();
    const written = new Map<string, string>();
    for (const { name, definition, unit, expected } of SERVING_CASES) {
      const text = JSON.stringify(definition);
      if (written.get(definition.key) !== text) {
        const changed = nextChange(p, definition.key);
        await writeDefinitions(db.writer, [definition]);
        await changed;
        written.set(definition.key, text);
      }
      const got = await details(client, definition.key, expected.value, unit);
      const rule = evaluate(definition, unit);
      expect({ value: got.value, variant: got.variant, reason: got.reason, errorCode: got.errorCode }, name).toEqual({ value: expected.value, variant: expected.variant, reason: expected.reason, errorCode: undefined });
      expect(got.value, `${name}: the pure rule agrees`).toEqual(rule.value);
      expect(got.flagMetadata.shadowValue, `${name}: shadowValue`).toBe(expected.shadowValue === undefined ? undefined : JSON.stringify(expected.shadowValue));
      expect(got.flagMetadata.percent, `${name}: percent`).toBe(definition.percent);
      if (definition.stage === null) expect(got.flagMetadata.stage).toBeUndefined();
      else expect(got.flagMetadata.stage).toBe(definition.stage);
      expect(typeof got.flagMetadata.ledgerId, `${name}: ledgerId`).toBe('number');
    }
  });

  it('returns the caller default with FLAG_NOT_FOUND, TYPE_MISMATCH and PARSE_ERROR, each for that flag only', async () => {
    await writeDefinitions(db.writer, [flag('errors.bool'), flag('errors.string', { value: 'v2', offValue: 'v1', stage: 'full' })]);
    const { provider: p, client } = await provider();

    const missing = await client.getBooleanDetails('errors.nowhere', true);
    expect(missing).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });

    const wrongType = await client.getNumberDetails('errors.string', 7);
    expect(wrongType).toMatchObject({ value: 7, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH });
    expect(wrongType.errorMessage).toContain('string');

    const changed = nextChange(p, 'errors.corrupt');
    await writeRawRow(db.writer, 'errors.corrupt', { value: true, off_value: false, stage: 'sideways' });
    await changed;
    const corrupt = await client.getBooleanDetails('errors.corrupt', false);
    expect(corrupt).toMatchObject({ value: false, reason: 'ERROR', errorCode: ErrorCode.PARSE_ERROR });
    expect(corrupt.errorMessage).toContain("unknown stage 'sideways'");
    // The neighbours are untouched.
    expect(await client.getBooleanDetails('errors.bool', false)).toMatchObject({ value: true, reason: 'STATIC', variant: 'on' });
    expect(await client.getStringDetails('errors.string', 'x')).toMatchObject({ value: 'v2', reason: 'STATIC' });

    // Fixed by the next write: served again.
    const fixed = nextChange(p, 'errors.corrupt');
    await writeDefinitions(db.writer, [flag('errors.corrupt', { stage: 'full' })]);
    await fixed;
    expect(await client.getBooleanDetails('errors.corrupt', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('sees a committed change without a restart: event with the key, new value served', async () => {
    await writeDefinitions(db.writer, [flag('live.checkout', { stage: 'off' })]);
    const { provider: p, client } = await provider();
    expect(await client.getBooleanValue('live.checkout', true, { targetingKey: 'u1' })).toBe(false);

    const clientEvent = new Promise<string[]>((resolve) => client.addHandler(ProviderEvents.ConfigurationChanged, (d) => resolve(d?.flagsChanged ?? [])));
    const changed = nextChange(p, 'live.checkout');
    await writeDefinitions(db.writer, [flag('live.checkout', { stage: 'full' })]);
    expect(await changed).toEqual(['live.checkout']);
    expect(await clientEvent).toContain('live.checkout');
    expect(await client.getBooleanDetails('live.checkout', false, { targetingKey: 'u1' })).toMatchObject({ value: true, reason: 'STATIC', flagMetadata: { stage: 'full' } });
  });

  it('treats a removed row as a removed flag', async () => {
    await writeDefinitions(db.writer, [flag('live.removed', { stage: 'full' })]);
    const { provider: p, client } = await provider();
    expect(await client.getBooleanValue('live.removed', false)).toBe(true);
    const changed = nextChange(p, 'live.removed');
    await removeDefinitions(db.writer, ['live.removed']);
    await changed;
    expect(await client.getBooleanDetails('live.removed', false)).toMatchObject({ value: false, errorCode: ErrorCode.FLAG_NOT_FOUND });
  });

  it('re-reads everything when a notice carries no keys (too many to fit)', async () => {
    const many = Array.from({ length: 400 }, (_, i) => flag(`bulk.flag_with_a_long_descriptive_name_${i}`, { stage: 'off' }));
    await writeDefinitions(db.writer, many);
    const { provider: p, client } = await provider();
    const changed = nextChange(p, many[0].key, many[399].key);
    await writeDefinitions(
      db.writer,
      many.map((d) => ({ ...d, stage: 'full' })),
    );
    const keys = await changed;
    expect(keys.length).toBeGreaterThanOrEqual(400);
    expect(await client.getBooleanValue(many[399].key, false)).toBe(true);
  });

  it('catches up by the periodic re-read when a notice was lost', async () => {
    await writeDefinitions(db.writer, [flag('live.unnoticed', { stage: 'off' })]);
    const { provider: p, client } = await provider({ pollIntervalMs: 50 });
    const changed = nextChange(p, 'live.unnoticed');
    await writeDefinitions(db.writer, [flag('live.unnoticed', { stage: 'full' })], { notify: false });
    await changed;
    expect(await client.getBooleanValue('live.unnoticed', false)).toBe(true);
  });

  it('catches up by the periodic re-read even when a later notice arrived', async () => {
    await writeDefinitions(db.writer, [flag('live.missed', { stage: 'off' }), flag('live.heard', { stage: 'off' })]);
    const { provider: p, client } = await provider({ pollIntervalMs: 50 });
    const missed = nextChange(p, 'live.missed');
    const heard = nextChange(p, 'live.heard');
    await writeDefinitions(db.writer, [flag('live.missed', { stage: 'full' })], { notify: false });
    await writeDefinitions(db.writer, [flag('live.heard', { stage: 'full' })]);
    await Promise.all([missed, heard]);
    expect(await client.getBooleanValue('live.missed', false)).toBe(true);
    expect(await client.getBooleanValue('live.heard', false)).toBe(true);
  });

  it.runIf(target.name === 'embedded')('(why the embedded database relies on the re-read) PGlite delivers a NOTIFY only to the connection that sent it', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query('LISTEN rollout_flags');
      const self = new Promise<string | undefined>((resolve) => db.writer.once('notification', (n: pg.Notification) => resolve(n.payload)));
      await db.writer.query(`SELECT pg_notify('rollout_flags', '{"ledger_id": 0}')`);
      expect(await self).toBe('{"ledger_id": 0}');
      await listener.query('SELECT 1');
      expect(heard).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  it('is READY after initialize, and NOT_READY again after close', async () => {
    const { provider: p, client } = await provider();
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    await p.onClose();
    expect(p.flagCount).toBe(0);
    expect(await client.getBooleanDetails('live.checkout', true)).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_NOT_READY });
  });
});
