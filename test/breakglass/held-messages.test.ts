/**
 * Issue 13, defect 8: after a kill, health must not say a bare HEALTHY while break-glass holds a
 * switch (or a flag drifted), and plan's diff of a held flag must not read as a change apply makes.
 */
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
monitors:
  - name: always fine
    sql: SELECT 1
    above: 5
    on_breach: report
`;

describe.each(databaseTargets())('messages about held and drifted flags on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, ENV);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  it('health says HEALTHY with no qualifier only while live matches Git', async () => {
    const clean = await cliOn(db, ['health', '--env', 'test']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('test: HEALTHY — 1 healthy, 0 breached, 0 unknown');
    expect(clean.stdout).not.toContain('NOT IN SYNC');
  });

  it('health names the hold, why, and the PR that reconciles it; and the drift', async () => {
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'drill'])).code).toBe(0);
    await sql(db, `UPDATE rollout.flags SET value = '{"epsilon": 0.5}' WHERE key = 'ranker.policy'`);

    const health = await cliOn(db, ['health', '--env', 'test']);
    // The exit code stays the monitors' (documented 0/1/3); the words say what else is true.
    expect(health.code, health.stderr).toBe(0);
    expect(health.stdout).not.toMatch(/test: HEALTHY —/);
    expect(health.stdout).toContain('test: monitors HEALTHY — 1 healthy, 0 breached, 0 unknown; live state NOT IN SYNC with Git — 1 flag held by break-glass, 1 flag drifted (changed outside Git)');
    expect(health.stdout).toContain(
      'global.safe_mode is held at {"enabled":true} by break-glass (ledger #2); environments/test.yaml says {"enabled":false}, and apply keeps the live value until Git says the same. ' +
        'Reconcile: merge the PR that puts {"enabled":true} in environments/test.yaml (a break-glass by the health action opens it on branch rollout/break-glass-test-global.safe_mode; after rollout kill, open it yourself).',
    );
    expect(health.stdout).toContain('ranker.policy drifted: live is {"epsilon":0.5}, but rollout last wrote {"epsilon":0.1} (changed outside Git).');

    const json = JSON.parse((await cliOn(db, ['health', '--env', 'test', '--format', 'json'])).stdout) as { status: string; git: { inSync: boolean; lines: string[] } };
    expect(json.status).toBe('healthy');
    expect(json.git.inSync).toBe(false);
    expect(json.git.lines).toHaveLength(2);

    // status shows ≠ for both, and says why each differs.
    const status = await cliOn(db, ['status', '--env', 'test']);
    expect(status.stdout).toContain('Why live differs from Git: 1 flag held by break-glass, 1 flag drifted (changed outside Git)');
    expect(status.stdout).toContain('  ! global.safe_mode is held at {"enabled":true} by break-glass (ledger #2)');
  });

  it("plan shows a held flag's value as kept, not as a change apply would make", async () => {
    expect((await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'drill'])).code).toBe(0);
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout).toContain('hold (break-glass)');
    expect(plan.stdout).toContain('= enabled: true kept (Git says false)');
    expect(plan.stdout).not.toContain('enabled: true → false');
    const markdown = await cliOn(db, ['plan', '--env', 'test', '--format', 'markdown']);
    expect(markdown.stdout).toContain('`= enabled: true kept (Git says false)`');
    expect(markdown.stdout).not.toContain('true → false');
  });
});
