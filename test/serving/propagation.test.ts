/**
 * Propagation through the real writer: a provider connected to the server sees an apply, a
 * revert after failed checks, and a `rollout kill`, each without a restart. The periodic
 * re-read is set to an hour, so only the NOTIFY the writer sends in the flag transaction can
 * deliver a change; the test waits on the provider's change events, it never sleeps.
 *
 * Server only: on the embedded database NOTIFY does not cross connections (PGlite has one
 * session behind its socket), and the embedded re-read path is tested in provider.test.ts.
 */
import type { Client, EvaluationContext, JsonValue } from '@openfeature/server-sdk';
import equal from 'fast-deep-equal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../packages/provider/src/rule.ts';
import type { RolloutProvider } from '../../packages/provider/src/provider.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { sql } from '../support/sql.ts';
import { connect } from './support/connect.ts';
import { nextChange } from './support/events.ts';

const server = databaseTargets().find((t) => t.name === 'server');

const environment = (variant: string): string => `flags:
  checkout.v2:
    value: { enabled: true, variant: ${variant} }
    off_value: { enabled: false }
    rollout: { stage: canary, percent: 5 }
  shop.safe_mode:
    value: { enabled: false }
    kill_switch: true
checks:
  - name: no bad variant is defined
    sql: SELECT key FROM rollout.flag_definitions WHERE value->>'variant' = 'bad'
    expect: { max_rows: 0 }
`;

/** A unit the canary lets in (bucket under 5 %), found with the pure rule. */
function unitInCanary(): string {
  for (let i = 0; ; i++) {
    const id = `user-${i}`;
    const got = evaluate({ key: 'checkout.v2', value: true, offValue: false, stage: 'canary', percent: 5, segments: [], killSwitch: false, ledgerId: null }, { targetingKey: id });
    if (got.variant === 'on') return id;
  }
}

/**
 * Wait until the provider serves `want` for `key`: register for the next change, then look; a
 * change that lands between the two only makes the loop look again. Each wait is an event.
 */
async function untilServed(provider: RolloutProvider, client: Client, key: string, context: EvaluationContext, want: JsonValue): Promise<{ ledgerId: unknown }> {
  for (let changes = 0; changes < 5; changes++) {
    const next = nextChange(provider, key);
    const got = await client.getObjectDetails(key, {}, context);
    if (equal(got.value, want)) {
      next.catch(() => undefined);
      return { ledgerId: got.flagMetadata.ledgerId };
    }
    await next;
  }
  throw new Error(`${key} never served ${JSON.stringify(want)}`);
}

describe.skipIf(!server)('propagation from the real writer to a connected provider (server)', () => {
  let db: TestDatabase;
  let provider: RolloutProvider;
  let client: Client;
  const unit = { targetingKey: unitInCanary() };
  const outside = { targetingKey: 'user-outside' };

  beforeAll(async () => {
    db = await server!.create();
    await writeEnvironment(db, environment('a'));
    const first = await cliOn(db, ['apply', '--env', 'test']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    ({ provider, client } = await connect(db.url!, { pollIntervalMs: 3_600_000 }));
  });
  afterAll(async () => {
    await provider?.onClose();
    await db?.dispose();
  });

  it('starts from what the first apply wrote', async () => {
    expect((await client.getObjectDetails('checkout.v2', {}, unit)).value).toEqual({ enabled: true, variant: 'a' });
    // A unit the 5 % canary leaves out gets the off value (unless its bucket happens to be under 5 %).
    const outsideGets = evaluate({ key: 'checkout.v2', value: 'on', offValue: 'off', stage: 'canary', percent: 5, segments: [], killSwitch: false, ledgerId: null }, outside).value;
    expect((await client.getObjectDetails('checkout.v2', {}, outside)).value).toEqual(outsideGets === 'on' ? { enabled: true, variant: 'a' } : { enabled: false });
  });

  it('sees an apply: the change event names the flag and the new value is served', async () => {
    await writeEnvironment(db, environment('b'));
    const changed = nextChange(provider, 'checkout.v2');
    const run = await cliOn(db, ['apply', '--env', 'test']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await changed).toContain('checkout.v2');
    const served = await untilServed(provider, client, 'checkout.v2', unit, { enabled: true, variant: 'b' });
    const [head] = await sql<{ id: number }>(db, 'SELECT max(id)::int AS id FROM rollout.ledger');
    expect(served.ledgerId).toBe(head.id);
  });

  it('sees a revert after failed checks: the value before the apply is served again', async () => {
    await writeEnvironment(db, environment('bad'));
    const run = await cliOn(db, ['apply', '--env', 'test']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('REVERTED');
    const served = await untilServed(provider, client, 'checkout.v2', unit, { enabled: true, variant: 'b' });
    const [revert] = await sql<{ id: number }>(db, "SELECT max(id)::int AS id FROM rollout.ledger WHERE kind = 'revert'");
    expect(served.ledgerId).toBe(revert.id);
    await writeEnvironment(db, environment('b'));
  });

  it('sees a rollout kill: every unit gets the break-glass value', async () => {
    const changed = nextChange(provider, 'shop.safe_mode');
    const run = await cliOn(db, ['kill', '--env', 'test', '--flag', 'shop.safe_mode', '--reason', 'drill']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await changed;
    for (const who of [unit, outside, {}]) {
      const got = await client.getObjectDetails('shop.safe_mode', {}, who);
      expect({ value: got.value, variant: got.variant }).toEqual({ value: { enabled: true }, variant: 'break-glass' });
    }
  });
});
