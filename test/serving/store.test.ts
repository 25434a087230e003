/**
 * The flag store with definitions: apply writes Git's definitions (rollout.flag_definitions,
 * read by the provider's own parser) and a value table that a plain read can trust (never
 * more than the stage allows); break-glass keeps what Git defined; a row an older version
 * wrote is migrated by the next apply, planned and recorded.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProblem, parseDefinition, type DefinitionRow } from '../../packages/provider/src/definition.ts';
import { SELECT_ALL } from '../../packages/provider/src/queries.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const ENV = `segments:
  internal: { keys: [staff-1, staff-2] }
  gold: { attributes: { tier: [gold] } }
flags:
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: dark, segments: [internal] }
  search.ranker:
    value: v2
    off_value: v1
    rollout: { stage: full }
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
  plain.limit:
    value: 10
`;

const table = (db: TestDatabase): Promise<Record<string, unknown>> =>
  sql<{ key: string; value: unknown }>(db, 'SELECT key, value FROM rollout.flags ORDER BY key').then((rows) => Object.fromEntries(rows.map((r) => [r.key, r.value])));

const definitions = async (db: TestDatabase) =>
  (await sql<DefinitionRow>(db, `${SELECT_ALL} ORDER BY key`)).map((row) => {
    const parsed = parseDefinition(row);
    if (isProblem(parsed)) throw new Error(parsed.problem);
    return parsed;
  });

describe.each(databaseTargets())('definitions and the value table on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('stores Git definitions for the provider, and a value table that serves no more than the stage', async () => {
    await writeEnvironment(db, ENV);
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr).toBe(0);
    // The dark flag's plain read is its off value; full and plain flags serve their value.
    expect(await table(db)).toEqual({ 'checkout.v2': { enabled: false }, 'global.safe_mode': { enabled: false }, 'plain.limit': 10, 'search.ranker': 'v2' });
    const defs = await definitions(db);
    expect(defs.find((d) => d.key === 'checkout.v2')).toEqual({
      key: 'checkout.v2',
      value: { enabled: true },
      offValue: { enabled: false },
      stage: 'dark',
      percent: 0,
      segments: [{ name: 'internal', keys: ['staff-1', 'staff-2'] }],
      killSwitch: false,
      ledgerId: 1,
    });
    expect(defs.find((d) => d.key === 'global.safe_mode')).toMatchObject({ killSwitch: true, stage: null, offValue: { enabled: false } });
    expect((await cliOn(db, ['apply', '--env', 'test'])).stdout).toContain('nothing to apply');

    // A new off value and a segment's new members: planned as serving changes, stored, recorded.
    await writeEnvironment(db, ENV.replace('off_value: { enabled: false }', 'off_value: { enabled: true }').replace('[staff-1, staff-2]', '[staff-1]'));
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout).toContain('off value (units outside the rollout): {"enabled":false} → {"enabled":true}');
    expect(plan.stdout).toContain('segments (in whatever their bucket): internal → internal (members changed)');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    expect((await table(db))['checkout.v2']).toEqual({ enabled: true });
    expect((await definitions(db)).find((d) => d.key === 'checkout.v2')).toMatchObject({ offValue: { enabled: true }, segments: [{ name: 'internal', keys: ['staff-1'] }], ledgerId: 2 });
    const serving = await sql<{ old_value: unknown; new_value: unknown }>(db, "SELECT old_value, new_value FROM rollout.ledger_changes WHERE ledger_id = 2 AND action = 'serving'");
    expect(serving).toEqual([
      {
        old_value: { off_value: { enabled: false }, segments: [{ name: 'internal', keys: ['staff-1', 'staff-2'] }], kill_switch: false, plain_read: { enabled: false } },
        new_value: { off_value: { enabled: true }, segments: [{ name: 'internal', keys: ['staff-1'] }], kill_switch: false, plain_read: { enabled: true } },
      },
    ]);
  });

  it('keeps Git definitions through break-glass: the override is what the value table serves', async () => {
    await writeEnvironment(db, ENV);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    const kill = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'burn rate']);
    expect(kill.code, kill.stderr).toBe(0);
    expect((await table(db))['global.safe_mode']).toEqual({ enabled: true });
    const tripped = (await definitions(db)).find((d) => d.key === 'global.safe_mode');
    expect(tripped).toMatchObject({ value: { enabled: false }, override: { enabled: true }, killSwitch: true, ledgerId: 2 });
    // The other flags' definitions are untouched.
    expect((await definitions(db)).find((d) => d.key === 'checkout.v2')).toMatchObject({ offValue: { enabled: false }, ledgerId: 1 });
  });

  it('migrates a row an older version wrote (value served to everyone at dark): planned, applied, recorded', async () => {
    await writeEnvironment(db, ENV);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    // What an older version left: no definition, and the value table holding value at dark.
    await sql(db, "UPDATE rollout.flag_rollouts SET value = NULL, off_value = NULL, segments = NULL, kill_switch = NULL, recorded_value = '{\"enabled\": true}' WHERE key = 'checkout.v2'");
    await sql(db, "UPDATE rollout.flags SET value = '{\"enabled\": true}' WHERE key = 'checkout.v2'");
    expect((await definitions(db)).map((d) => d.key)).not.toContain('checkout.v2');
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout).toContain('rollout.flags (a plain read): {"enabled":true} → {"enabled":false} (written by an older version: migrated so a plain read is never more than the stage allows)');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    expect((await table(db))['checkout.v2']).toEqual({ enabled: false });
    expect((await definitions(db)).find((d) => d.key === 'checkout.v2')).toMatchObject({ stage: 'dark', offValue: { enabled: false }, ledgerId: 2 });
    const rows = await sql<{ action: string }>(db, "SELECT action FROM rollout.ledger_changes WHERE ledger_id = 2 AND key = 'checkout.v2' ORDER BY ordinal");
    expect(rows.map((r) => r.action)).toEqual(['change', 'serving']);
  });
});
