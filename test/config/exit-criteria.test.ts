/** exit_criteria and the new monitor fields in environment files: positioned errors, every one at once, and the model. */
import { describe, expect, it } from 'vitest';
import { ContractRegistry } from '../../actions/engine/config/contracts.ts';
import { readEnvironmentFile } from '../../actions/engine/config/environment-file.ts';
import { criteriaFor } from '../../actions/engine/config/exit-criteria.ts';
import { planStageRollbacks } from '../../actions/engine/monitors/stage-rollback.ts';
import { DEFAULT_LADDER } from '../../actions/engine/stages/ladder.ts';
import { sortProblems } from '../../actions/engine/problems.ts';

const read = (body: string) => readEnvironmentFile('environments/staging.yaml', `version: 1\ndatabase: { url_env: STAGING_DATABASE_URL }\n${body}`, new ContractRegistry('/nonexistent'), new Date('2026-11-20T10:00:00Z'));

const MONITORS = `monitors:
  - name: p95 latency
    sql: SELECT p95 FROM latency
    above: 1000
    every: 5m
    during: 24h
  - name: error rate
    sql: SELECT rate FROM errors
    above: 0.05
    on_breach: [{ webhook: { url_env: PAGER_URL } }, { dispatch: { event_type: scale-workers, repository: acme/ops } }]
  - name: dead letters
    sql: SELECT id FROM dead_letters
    above: 0
    empty: healthy
`;

describe('exit_criteria in an environment file', () => {
  it('resolves per stage: the environment\'s lists and the flag\'s, with rollback_to', () => {
    const file = read(`${MONITORS}exit_criteria:
  all: [dead letters]
flags:
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: canary, percent: 5 }
    exit_criteria: { canary: [p95 latency, error rate], shadow: [error rate], rollback_to: off }
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
`);
    expect(file.problems).toEqual([]);
    const env = file.environment!;
    expect(criteriaFor(env, 'checkout.v2', 'canary')).toEqual({
      rollbackTo: 'off',
      criteria: [
        { monitor: 'dead letters', everyMs: 900_000 },
        { monitor: 'p95 latency', everyMs: 300_000, duringMs: 86_400_000 },
        { monitor: 'error rate', everyMs: 900_000 },
      ],
    });
    expect(criteriaFor(env, 'checkout.v2', 'dark').criteria.map((c) => c.monitor)).toEqual(['dead letters']);
    expect(criteriaFor(env, 'checkout.v2', 'full').criteria).toEqual([]);
    expect(criteriaFor(env, 'checkout.v2', 'off').criteria).toEqual([]);
    // Kill switches have no criteria: break-glass owns them.
    expect(criteriaFor(env, 'global.safe_mode', 'canary').criteria).toEqual([]);
  });

  it('full: is a watch after the move to full, named on its own (all: stays below full); a breach there moves the flag one rung back, or off', () => {
    const body = (rollbackTo: string) => `${MONITORS}exit_criteria:
  all: [dead letters]
flags:
  plans.scoring:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: full }
    exit_criteria: { full: [error rate, p95 latency]${rollbackTo} }
`;
    const file = read(body(''));
    expect(file.problems).toEqual([]);
    const env = file.environment!;
    expect(criteriaFor(env, 'plans.scoring', 'full')).toEqual({
      rollbackTo: 'previous',
      criteria: [
        { monitor: 'error rate', everyMs: 900_000 },
        { monitor: 'p95 latency', everyMs: 300_000, duringMs: 86_400_000 },
      ],
    });
    const ladder = { ...DEFAULT_LADDER, canarySteps: [100], skip: ['shadow' as const] };
    const moved = new Date('2026-11-20T10:00:00Z');
    const at = (hours: number) => new Date(moved.getTime() + hours * 3_600_000);
    const positions = new Map([['plans.scoring', { position: { stage: 'full' as const }, since: moved }]]);
    expect(planStageRollbacks({ env, positions, breached: new Set(['error rate']), ladder, now: at(1) })).toEqual([
      { flag: 'plans.scoring', from: { stage: 'full' }, to: { stage: 'canary', percent: 100 }, monitors: ['error rate'] },
    ]);
    // during: 24h: watched for the first day after the move only.
    expect(planStageRollbacks({ env, positions, breached: new Set(['p95 latency']), ladder, now: at(23) })).toHaveLength(1);
    expect(planStageRollbacks({ env, positions, breached: new Set(['p95 latency']), ladder, now: at(25) })).toEqual([]);
    // all: is not watched at full.
    expect(planStageRollbacks({ env, positions, breached: new Set(['dead letters']), ladder, now: at(1) })).toEqual([]);
    const off = read(body(', rollback_to: off')).environment!;
    expect(planStageRollbacks({ env: off, positions, breached: new Set(['error rate']), ladder, now: at(1) })[0].to).toEqual({ stage: 'off' });
  });

  it('reports every unknown monitor name at its position, with the closest name', () => {
    const file = read(`${MONITORS}exit_criteria:
  all: [dead leters]
flags:
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: dark }
    exit_criteria:
      dark: [p59 latency, nothing like it]
`);
    expect(file.environment).toBeUndefined();
    expect(file.problems.map((p) => `${p.line}:${p.column} ${p.severity} ${p.message}`)).toEqual([
      "23:5 warning flag 'checkout.v2' is at stage dark with no segments, so no unit gets value (dark serves only the units of its segments); add segments: [internal] to the rollout.",
      "18:9 error exit criterion 'dead leters' is not a monitor of this environment; did you mean 'dead letters'? Monitors: 'p95 latency', 'error rate', 'dead letters'.",
      "25:14 error exit criterion 'p59 latency' is not a monitor of this environment; did you mean 'p95 latency'? Monitors: 'p95 latency', 'error rate', 'dead letters'.",
      "25:27 error exit criterion 'nothing like it' is not a monitor of this environment. Monitors: 'p95 latency', 'error rate', 'dead letters'.",
    ]);
  });

  it('refuses duplicate monitor names, bad stages, bad rollback_to and bad breach actions; warns where criteria cannot act', () => {
    const file = read(`monitors:
  - { name: lag, sql: SELECT 1, above: 1, every: soon }
  - { name: lag, sql: SELECT 2, above: 1, baseline: { above: 1.5 } }
  - { name: ratio, burn_rate: { sql: SELECT 1, slo: 0.99, windows: [{ long: 1h, short: 5m, factor: 14 }] }, baseline: { below: 0.5 } }
  - { name: page, sql: SELECT 1, above: 1, on_breach: { webhook: { url: "https://hooks.example/x" } } }
  - { name: both, sql: SELECT 1, above: 1, on_breach: { dispatch: { event_type: x, workflow: y.yml } } }
flags:
  a:
    value: { enabled: true }
    exit_criteria: { canary: [lag], full: [lag], rollback_to: first }
  s:
    value: { enabled: false }
    off_value: { enabled: false }
    kill_switch: true
    rollout: { stage: dark }
    exit_criteria: { dark: [lag] }
`);
    const messages = sortProblems(file.problems).map((p) => `${p.line}:${p.column} ${p.severity} ${p.message}`);
    expect(messages).toEqual([
      '4:50 error Invalid monitors[0].every "soon". Expected: A duration such as 500ms, 5s, 10m, 48h or 3d.',
      "5:13 error monitor name 'lag' is used twice (also monitors[0]); exit criteria name monitors, so give each its own name.",
      "6:119 error monitor 'ratio' has a baseline but no sql: a baseline compares the sql's measurement with the one before a move; add sql, or remove baseline.",
      "7:66 error monitors[3].on_breach.webhook is missing the required key 'url_env'; add it.",
      "7:68 error unknown key 'url' in monitors[3].on_breach.webhook. Allowed here: url_env.",
      '8:67 error dispatch takes exactly one of event_type (a repository_dispatch, e.g. event_type: scale-workers) or workflow (a workflow_dispatch, e.g. workflow: rollback.yml, ref: main).',
      "12:5 warning flag 'a' has no rollout, so its exit criteria never gate anything; add rollout: { stage: dark } (or remove exit_criteria).",
      '12:63 error flags.a.exit_criteria.rollback_to is "first", which is not one of: previous, off.',
      "17:5 warning flag 's' is at stage dark with no segments, so no unit gets value (dark serves only the units of its segments); add segments: [internal] to the rollout.",
      "18:5 warning flag 's' is a kill switch: exit criteria never move a kill switch; trip it from a monitor's on_breach: { kill_switch: s } instead.",
    ]);
  });
});
