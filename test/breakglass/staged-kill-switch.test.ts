/**
 * Staged kill switches (issue 17): a kill switch may carry a rollout — seed 001's "disable safe
 * mode for 5 % of users" is a staged enablement of the normal path. The staged value reaches
 * units by the stage (a forward move gated like any flag's); the break-glass value overrides
 * every unit at once, never gated; Git reconciles it only by a file that serves it to every unit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, isProblem, parseDefinition, type DefinitionRow } from '../../packages/provider/src/index.ts';
import type { Plan } from '../../actions/engine/plan/types.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

/** Safe mode is on for everyone (off value); the normal path (value) is rolled out to a canary. */
const environment = (rollout: string, value = '{ enabled: false }', offValue = '{ enabled: true }'): string => `flags:
  global.safe_mode:
    value: ${value}                 # the normal path, for units in the rollout
    off_value: ${offValue}          # safe mode, for everyone else
    kill_switch: true
    rollout: ${rollout}
`;

const UNITS = Array.from({ length: 400 }, (_, i) => `user-${i}`);

describe.each(databaseTargets())('staged kill switches on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }'));
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterEach(() => db.dispose());

  /** What every unit gets, as a service reads it: the definition from rollout.flag_definitions, through the provider's rule. */
  const served = async (): Promise<{ safe: number; normal: number; plain: unknown }> => {
    const [row] = await sql<DefinitionRow>(db, "SELECT key, value, off_value, stage, percent, segments, override, kill_switch, ledger_id FROM rollout.flag_definitions WHERE key = 'global.safe_mode'");
    const definition = parseDefinition(row);
    if (isProblem(definition)) throw new Error(definition.problem);
    const values = UNITS.map((unit) => evaluate(definition, { targetingKey: unit }).value as { enabled: boolean });
    const [{ value: plain }] = await sql<{ value: unknown }>(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'");
    return { safe: values.filter((v) => v.enabled).length, normal: values.filter((v) => !v.enabled).length, plain };
  };
  const plan = async (): Promise<Plan> => JSON.parse((await cliOn(db, ['plan', '--env', 'test', '--format', 'json'])).stdout) as Plan;

  it('serves the staged value by the stage; break-glass overrides every unit at once; a plain read never sees the normal path early', async () => {
    const staged = await served();
    expect(staged.normal).toBeGreaterThan(50); // about a quarter of 400
    expect(staged.normal).toBeLessThan(150);
    expect(staged.plain).toEqual({ enabled: true }); // the value table holds the off value until full

    const kill = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'burn rate 3.1']);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toContain('set to {"enabled":true}');
    expect(await served()).toEqual({ safe: 400, normal: 0, plain: { enabled: true } });
    expect(await sql(db, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'global.safe_mode'")).toEqual([{ stage: 'canary', percent: 25 }]);

    // The plan holds it; apply leaves it; a second kill has nothing to write.
    const [held] = (await plan()).flags;
    expect([held.key, held.action, typeof held.breakGlass?.ledgerId]).toEqual(['global.safe_mode', 'hold', 'number']);
    expect((await cliOn(db, ['apply', '--env', 'test'])).stdout).toContain('held by break-glass');
    expect(await served()).toMatchObject({ safe: 400 });
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'again'])).stdout).toContain('nothing written');
  });

  it('writes the override even when the staged value is the break-glass value (units outside the rollout did not have it)', async () => {
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }', '{ enabled: true }', '{ enabled: false }'));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    expect((await served()).safe).toBeLessThan(400);
    const kill = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'incident']);
    expect(kill.stdout).not.toContain('nothing written');
    expect(await served()).toMatchObject({ safe: 400, normal: 0 });
  });

  it('is reconciled only by a file that serves the break-glass value to every unit', async () => {
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'incident'])).code).toBe(0);
    // The rolled-out value says safe mode, but units outside the canary would get the normal path: not what break-glass set.
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }', '{ enabled: true }', '{ enabled: false }'));
    expect((await plan()).flags).toEqual([expect.objectContaining({ key: 'global.safe_mode', action: 'hold' })]);
    const kept = await cliOn(db, ['apply', '--env', 'test']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('kept global.safe_mode = {"enabled":true} for every unit: held by break-glass');
    expect(kept.stdout).toContain('serves it to some units only');
    expect((await cliOn(db, ['plan', '--env', 'test'])).stdout).toContain('apply keeps it until environments/test.yaml serves it to every unit too');
    expect(await served()).toMatchObject({ safe: 400 });

    // Safe mode for every unit (as break-glass set it): the reconcile, after which the plan is a no-op.
    await writeEnvironment(db, environment('{ stage: off }', '{ enabled: false }', '{ enabled: true }'));
    expect((await plan()).flags.map((f) => [f.key, f.action])).toEqual([['global.safe_mode', 'reconcile']]);
    const reconciled = await cliOn(db, ['apply', '--env', 'test']);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(await served()).toEqual({ safe: 400, normal: 0, plain: { enabled: true } });
    expect((await plan()).noop).toBe(true);
  });

  it('gates a forward move of its rollout like any flag\'s, and never a rollback or a flip', async () => {
    // Straight to 50 % the next minute: refused by the soak; with the values changed too, still not waved through as a flip.
    await writeEnvironment(db, environment('{ stage: canary, percent: 50 }'));
    expect((await plan()).flags.find((f) => f.key === 'global.safe_mode')?.gate).toMatchObject({ allowed: false, kind: 'forward' });
    await writeEnvironment(db, environment('{ stage: canary, percent: 50 }', '{ enabled: true }', '{ enabled: true }'));
    expect((await plan()).flags.find((f) => f.key === 'global.safe_mode')?.gate).toMatchObject({ allowed: false, kind: 'forward' });
    // Back to 5 %, or a flip of the value at the same stage: always allowed.
    await writeEnvironment(db, environment('{ stage: canary, percent: 5 }'));
    expect((await plan()).flags.find((f) => f.key === 'global.safe_mode')?.gate).toMatchObject({ allowed: true, kind: 'rollback' });
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }', '{ enabled: true }'));
    expect((await plan()).flags.find((f) => f.key === 'global.safe_mode')?.gate).toMatchObject({ allowed: true, kind: 'kill-switch' });
  });
});
