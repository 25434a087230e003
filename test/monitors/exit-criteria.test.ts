/**
 * Exit criteria on a real database: health records measurements, the plan's gate reads them,
 * a breach moves the flag back by itself (ledger kind auto-rollback, with the measurement), plan
 * holds it until Git records the position, and the reconciling change is a no-op.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';
import type { Plan } from '../../actions/engine/plan/types.ts';
import { formatInstant } from '../../actions/engine/stages/gates.ts';
import { evaluate, isProblem, parseDefinition, type DefinitionRow } from '../../packages/provider/src/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const MIGRATION = `
CREATE TABLE latency (p95_ms numeric NOT NULL);
INSERT INTO latency VALUES (420);
CREATE TABLE dead_letters (id int);
`;

const environment = (position: string, extra = ''): string => `flags:
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: ${position}
    exit_criteria:
      canary: [p95 latency]
${extra}monitors:
  - name: p95 latency
    sql: SELECT p95_ms FROM latency
    above: 1000
    every: 15m
  - name: dead letters
    sql: SELECT count(*) FROM dead_letters HAVING count(*) > 0
    above: 0
    empty: healthy
exit_criteria:
  all: [dead letters]
`;

describe.each(databaseTargets())('exit criteria on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }'));
    await writeFile(join(db.root, 'migrations', '0001_latency.sql'), MIGRATION);
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterEach(() => db.dispose());

  const health = async (...args: string[]) => {
    const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json', ...args]);
    return { code: run.code, report: JSON.parse(run.stdout) as HealthReport, stderr: run.stderr };
  };
  const plan = async (extraEnv: NodeJS.ProcessEnv = {}) => JSON.parse((await cliOn(db, ['plan', '--env', 'test', '--format', 'json'], extraEnv)).stdout) as Plan;

  it('records every measurement with the flags it serves; empty: healthy; --no-act records nothing', async () => {
    const dry = await health('--no-act');
    expect(dry.code).toBe(0);
    expect(await sql(db, 'SELECT count(*)::int AS n FROM rollout.measurements')).toEqual([{ n: 0 }]);
    const run = await health();
    expect(run.code, run.stderr).toBe(0);
    expect(run.report.results.map((r) => [r.name, r.status, r.flags])).toEqual([
      ['p95 latency', 'healthy', ['checkout.v2']],
      ['dead letters', 'healthy', ['checkout.v2']],
    ]);
    expect(run.report.results[1].detail).toContain('empty: healthy');
    expect(await sql(db, 'SELECT monitor, flags, value, verdict, ledger_id FROM rollout.measurements ORDER BY id')).toEqual([
      { monitor: 'p95 latency', flags: ['checkout.v2'], value: 420, verdict: 'healthy', ledger_id: null },
      { monitor: 'dead letters', flags: ['checkout.v2'], value: null, verdict: 'healthy', ledger_id: null },
    ]);
  });

  it('gates the next move on healthy measurements over the whole soak window; a breach restarts it', async () => {
    const [{ since }] = await sql<{ since: Date }>(db, "SELECT stage_since AS since FROM rollout.flag_rollouts WHERE key = 'checkout.v2'");
    await writeEnvironment(db, environment('{ stage: canary, percent: 50 }'));
    const at = (minutes: number): string => new Date(since.getTime() + minutes * 60_000).toISOString();
    const refused = await plan({ ROLLOUT_NOW: at(25 * 60) });
    const gate = refused.flags.find((f) => f.key === 'checkout.v2')?.gate;
    expect(gate?.allowed).toBe(false);
    expect(gate?.reasons).toContain(`no measurements of 'p95 latency' since canary 25% began (${formatInstant(since)}): unknown is not healthy; rollout health measures it (the health workflow, every 15 min).`);

    // A day of measurements every 15 minutes, after the move (written as health writes them).
    await sql(
      db,
      `INSERT INTO rollout.measurements (environment, monitor, flags, at, value, verdict, detail)
       SELECT 'test', m, '{checkout.v2}', $1::timestamptz + make_interval(mins => 5 + 15 * g), 420, 'healthy', '420 is ≤ 1000'
         FROM generate_series(0, 100) g, unnest(ARRAY['p95 latency', 'dead letters']) m`,
      [since],
    );
    const allowed = await plan({ ROLLOUT_NOW: at(25 * 60) });
    const passed = allowed.flags.find((f) => f.key === 'checkout.v2')?.gate;
    expect(passed?.allowed, passed?.reasons.join('\n')).toBe(true);
    expect(passed?.reasons).toContain("'p95 latency': 97 of 97 measurements healthy over the last 24 h.");

    await sql(db, `INSERT INTO rollout.measurements (environment, monitor, at, value, verdict, detail) VALUES ('test', 'p95 latency', $1, 1240, 'breach', '1240 is above 1000')`, [at(20 * 60 + 5)]);
    const restarted = (await plan({ ROLLOUT_NOW: at(25 * 60) })).flags.find((f) => f.key === 'checkout.v2')?.gate;
    expect(restarted?.allowed).toBe(false);
    expect(restarted?.reasons.find((r) => r.includes('breached'))).toMatch(/^'p95 latency' breached at .* \(1240 is above 1000\): soak restarts; /);
    expect((await cliOn(db, ['apply', '--env', 'test'], { ROLLOUT_NOW: at(25 * 60), ROLLOUT_TEST_CLOCK: '1' })).code).toBe(1);
  });

  it('a breach moves the flag back one rung at once, recorded with its measurement; plan holds it until Git says so', async () => {
    await sql(db, 'UPDATE latency SET p95_ms = 1240');
    const run = await health();
    expect(run.code).toBe(1);
    const latency = run.report.results[0];
    expect(latency.actions).toEqual([
      { kind: 'report' },
      expect.objectContaining({ kind: 'stage_rollback', flag: 'checkout.v2', from: { stage: 'canary', percent: 25 }, to: { stage: 'canary', percent: 5 }, outcome: 'rolled back' }),
    ]);
    expect(await sql(db, "SELECT stage, percent::int AS percent, recorded_kind FROM rollout.flag_rollouts WHERE key = 'checkout.v2'")).toEqual([
      { stage: 'canary', percent: 5, recorded_kind: 'auto-rollback' },
    ]);
    // A service sees the rolled-back value: the definition it reads, through the provider's rule, puts about 5 % of units in.
    const [row] = await sql<DefinitionRow>(db, "SELECT key, value, off_value, stage, percent, segments, override, kill_switch, ledger_id FROM rollout.flag_definitions WHERE key = 'checkout.v2'");
    const definition = parseDefinition(row);
    if (isProblem(definition)) throw new Error(definition.problem);
    const inRollout = Array.from({ length: 1000 }, (_, i) => evaluate(definition, { targetingKey: `user-${i}` }).variant === 'on').filter(Boolean).length;
    expect(inRollout).toBeGreaterThan(20);
    expect(inRollout).toBeLessThan(90);
    const [entry] = await sql<{ id: number; kind: string; reason: string; summary: { measurements: unknown[] } }>(db, "SELECT id::int, kind, reason, summary FROM rollout.ledger WHERE kind = 'auto-rollback'");
    expect(entry.reason).toBe('exit criteria breached: "p95 latency" (1240 is above 1000)');
    expect(entry.summary.measurements).toEqual([{ monitor: 'p95 latency', verdict: 'breach', value: 1240, detail: '1240 is above 1000' }]);
    expect(await sql(db, 'SELECT monitor, verdict, ledger_id::int AS ledger_id FROM rollout.measurements ORDER BY id')).toEqual([
      { monitor: 'p95 latency', verdict: 'breach', ledger_id: entry.id },
      { monitor: 'dead letters', verdict: 'healthy', ledger_id: null },
    ]);
    expect(await sql(db, "SELECT old_stage, new_stage, old_percent::int AS old_percent, new_percent::int AS new_percent, action FROM rollout.ledger_changes WHERE ledger_id = $1", [entry.id])).toEqual([
      { old_stage: 'canary', new_stage: 'canary', old_percent: 25, new_percent: 5, action: 'auto-rollback' },
    ]);

    // Still breaching: the next run moves it again, one rung per run.
    const held = await plan();
    expect(held.flags).toEqual([expect.objectContaining({ key: 'checkout.v2', action: 'hold', autoRollback: { ledgerId: entry.id } })]);
    const text = await cliOn(db, ['plan', '--env', 'test']);
    expect(text.stdout).toContain('hold (auto-rollback)');
    expect(text.stdout).toContain('Reconcile: set its rollout to canary 5% in environments/test.yaml');
    expect((await cliOn(db, ['apply', '--env', 'test'])).stdout).toContain('nothing to apply');

    // The reconciling PR: Git records canary 5%; the plan's one change is the reconcile (as for a
    // break-glass value), apply records it and lifts the hold, and the plan after it is a no-op.
    await sql(db, 'UPDATE latency SET p95_ms = 420');
    await writeEnvironment(db, environment('{ stage: canary, percent: 5 }'));
    expect((await plan()).flags.map((f) => [f.key, f.action])).toEqual([['checkout.v2', 'reconcile']]);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    expect(await sql(db, "SELECT recorded_kind FROM rollout.flag_rollouts WHERE key = 'checkout.v2'")).toEqual([{ recorded_kind: 'apply' }]);
    expect((await plan()).noop).toBe(true);
    // Moving forward again is a normal, gated move (not a hold).
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }'));
    const again = (await plan()).flags.find((f) => f.key === 'checkout.v2');
    expect(again).toMatchObject({ action: 'change', gate: { allowed: false, kind: 'forward' } });
  });

  it('rollback_to: off moves the flag off; a kill switch trip records its measurement in its own transaction', async () => {
    await writeEnvironment(db, environment('{ stage: canary, percent: 25 }', '    # off on breach\n').replace('      canary: [p95 latency]\n', '      canary: [p95 latency]\n      rollback_to: off\n').replace('    every: 15m\n', '    every: 15m\n    on_breach: { kill_switch: global.safe_mode }\n'));
    await sql(db, 'UPDATE latency SET p95_ms = 5000');
    const run = await health();
    expect(run.report.results[0].actions?.map((a) => [a.kind, 'outcome' in a ? a.outcome : undefined])).toEqual([['kill_switch', 'tripped'], ['stage_rollback', 'rolled back']]);
    expect(await sql(db, "SELECT stage, percent FROM rollout.flag_rollouts WHERE key = 'checkout.v2'")).toEqual([{ stage: 'off', percent: null }]);
    expect(await sql(db, "SELECT m.monitor, l.kind FROM rollout.measurements m JOIN rollout.ledger l ON l.id = m.ledger_id")).toEqual([{ monitor: 'p95 latency', kind: 'break-glass' }]);
  });
});
