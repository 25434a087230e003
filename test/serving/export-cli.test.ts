/**
 * `rollout export --format flagd` as a user runs it: it reads the live definitions, writes a
 * file flagd-core loads with flagd's schema enforced and evaluates as the rule does, refuses
 * (exit 1, nothing written) what flagd cannot express, and says what to do on a database
 * nothing was applied to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlagdCore, MemoryStorage } from '@openfeature/flagd-core';
import type { EvaluationContext, Logger } from '@openfeature/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { cli, cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { INTERNAL, unitFor } from './cases.ts';
import { installDefinitions, withWriter, writeDefinitions, writeRawRow } from './support/definitions.ts';

const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const flag = (key: string, fields: Partial<FlagDefinition> = {}): FlagDefinition => ({ key, value: { enabled: true }, offValue: { enabled: false }, stage: null, percent: 0, segments: [], killSwitch: false, ledgerId: null, ...fields });

describe.each(databaseTargets())('rollout export on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, 'flags: {}\n', 'staging');
  });
  afterEach(() => db.dispose());

  it('writes the live definitions as a flagd file that flagd-core evaluates as the rule does', async () => {
    const definitions = [
      flag('checkout.v2', { stage: 'canary', percent: 25, segments: [INTERNAL] }),
      flag('search.ranking', { stage: 'dark', segments: [INTERNAL] }),
      flag('global.safe_mode', { value: false, offValue: false, killSwitch: true }),
    ];
    await withWriter(db, async (client) => {
      await installDefinitions(client);
      await writeDefinitions(client, definitions);
    });
    const out = join(db.root, 'flags.flagd.json');
    const run = await cliOn(db, ['export', '--env', 'staging', '--format', 'flagd', '--out', out]);
    expect(run.stderr).toContain('staging: wrote 3 flag(s) as flagd definitions to');
    expect(run.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    new MemoryStorage(quiet).setConfigurations(text, true);
    const core = new FlagdCore(undefined, quiet);
    core.setConfigurations(text);
    const document = JSON.parse(text) as { metadata: Record<string, unknown>; flags: Record<string, { metadata: Record<string, unknown> }> };
    expect(document.metadata).toEqual({ environment: 'staging' });
    expect(Object.keys(document.flags)).toEqual(['checkout.v2', 'global.safe_mode', 'search.ranking']);
    expect(typeof document.flags['checkout.v2'].metadata.ledgerId).toBe('number');
    const units: EvaluationContext[] = [{ targetingKey: unitFor('checkout.v2', 25, 'in') }, { targetingKey: unitFor('checkout.v2', 25, 'out') }, { targetingKey: 'alice@corp' }, { targetingKey: 'x', email_domain: 'corp.example' }, {}];
    for (const definition of definitions) {
      for (const unit of units) {
        const type = typeof definition.value === 'boolean' ? 'boolean' : 'object';
        const theirs = core.resolve(type, definition.key, null as never, unit, quiet);
        const ours = evaluate(definition, unit);
        expect({ value: theirs.value, variant: theirs.variant }, `${definition.key} ${JSON.stringify(unit)}`).toEqual({ value: ours.value, variant: ours.variant });
      }
    }

    // Without --out: the same document on standard output.
    const printed = await cliOn(db, ['export', '--env', 'staging']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(text);
  });

  it('refuses, naming each flag, when a definition cannot be read or expressed, and writes nothing', async () => {
    await withWriter(db, async (client) => {
      await installDefinitions(client);
      await writeDefinitions(client, [flag('fine', { stage: 'full' }), flag('mixed.types', { value: 1, offValue: 'one', stage: 'off' })]);
      await writeRawRow(client, 'broken.row', { value: true, off_value: false, stage: 'sideways' });
    });
    const out = join(db.root, 'flags.json');
    const run = await cliOn(db, ['export', '--env', 'staging', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: staging: flag broken.row: definition of broken.row cannot be read: unknown stage 'sideways'");
    expect(run.stderr).toContain('error: staging: flag mixed.types: off_value is a string but value is a number');
    expect(run.stderr).toContain('2 flag(s) cannot be exported as flagd; nothing was written.');
    expect(existsSync(out)).toBe(false);
  });

  it('says to apply first when nothing was applied to the database', async () => {
    const run = await cliOn(db, ['export', '--env', 'staging', '--format', 'flagd']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('has no rollout.flag_definitions yet');
    expect(run.stderr).toContain('rollout apply --env staging');
    expect(run.stderr).not.toContain('internal error');
  });
});

it('rollout export rejects an unknown format as usage, before opening any database', async () => {
  const run = await cli(['export', '--env', 'staging', '--format', 'yaml']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('Allowed choices are flagd');
});
