/** rollout kill: manual break-glass on kill switches only, never gated, recorded in the ledger. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';


const ENV = `flags:
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
  ranker.policy:
    value: { epsilon: 0.1 }
`;

describe.each(databaseTargets())('rollout kill on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, ENV);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  it('sets the switch with a break-glass ledger row, and plan holds it', async () => {
    const run = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'burn rate 3.1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('set to {"enabled":true} (was {"enabled":false}) by break-glass, ledger entry #2');
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);
    const ledger = await sql<{ kind: string; reason: string; old_value: unknown; new_value: unknown }>(
      db,
      'SELECT l.kind, l.reason, c.old_value, c.new_value FROM rollout.ledger l JOIN rollout.ledger_changes c ON c.ledger_id = l.id WHERE l.id = 2',
    );
    expect(ledger).toEqual([{ kind: 'break-glass', reason: 'burn rate 3.1', old_value: { enabled: false }, new_value: { enabled: true } }]);

    // apply keeps the hold (Git has not caught up); plan says to reconcile.
    const apply = await cliOn(db, ['apply', '--env', 'test']);
    expect(apply.stdout).toContain('nothing to apply');
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout).toContain('hold (break-glass)');

    const again = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'again']);
    expect(again.stdout).toContain('already {"enabled":true}; nothing written');
  });

  it('hands the flag back to Git once Git has the break-glass value, so Git can turn it off again (issue 13, defect 1)', async () => {
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'incident'])).code).toBe(0);
    // The reconcile PR: Git now says what break-glass set.
    await writeEnvironment(db, ENV.replace('value: { enabled: false }', 'value: { enabled: true }'));
    const reconcilePlan = await cliOn(db, ['plan', '--env', 'test']);
    expect(reconcilePlan.stdout).toContain('reconcile');
    expect(reconcilePlan.stdout).not.toContain('hold (break-glass)');
    const reconcile = await cliOn(db, ['apply', '--env', 'test']);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toContain('reconcile global.safe_mode');
    expect(await sql(db, "SELECT recorded_kind FROM rollout.flag_rollouts WHERE key = 'global.safe_mode'")).toEqual([{ recorded_kind: 'apply' }]);
    // Later, Git turns the switch back off: an ordinary change that apply makes.
    await writeEnvironment(db, ENV);
    const offPlan = await cliOn(db, ['plan', '--env', 'test']);
    expect(offPlan.stdout).not.toContain('hold (break-glass)');
    const off = await cliOn(db, ['apply', '--env', 'test']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain('change global.safe_mode');
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: false } }]);
  });

  it('refuses flags that are not kill switches, unknown flags, bad values, and no reason', async () => {
    const notSwitch = await cliOn(db, ['kill', '--env', 'test', '--flag', 'ranker.policy', '--reason', 'x']);
    expect(notSwitch.code).toBe(1);
    expect(notSwitch.stderr).toContain('not a kill switch');
    expect(notSwitch.stderr).toContain('Kill switches in environments/test.yaml: global.safe_mode');
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'nope', '--reason', 'x'])).stderr).toContain('flag nope is not in environments/test.yaml');
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'x', '--value', '{"enabled": 1}'])).stderr).toContain('not a kill switch value');
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', ' '])).stderr).toContain('a reason is required');
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'x', '--value', '{oops'])).code).toBe(2);
    expect(await sql(db, "SELECT count(*)::int AS n FROM rollout.ledger WHERE kind = 'break-glass'")).toEqual([{ n: 0 }]);
  });
});
