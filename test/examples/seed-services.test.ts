/**
 * The guides' "restart the service" steps (seed 001 §9 "Feature flags responsive", seed 002 §4
 * "Enable kill switch first … Restart API server", seed 003 "Restart service after env var
 * changes"), replaced by a service that reads its flags through the OpenFeature provider of
 * packages/provider: connected to the example's database, it is told of every real `rollout
 * apply` and `rollout kill` by NOTIFY and serves the new value at once, without a restart. The
 * test waits on the provider's change event; it never sleeps.
 *
 * A real server only: a service connects to its database over the network, which the embedded
 * database (in this process) does not offer. The same definitions read in-process on both
 * databases are asserted by each seed's walk (seed-00N.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RolloutProvider } from '../../packages/provider/src/provider.ts';
import { nextChange } from '../serving/support/events.ts';
import { databaseTargets } from '../support/databases.ts';
import { exampleRepo, later, setRollout, type ExampleRepo } from './support.ts';

const server = databaseTargets().find((target) => target.name === 'server');
const MINUTE = 60_000;

describe.skipIf(!server)('a service reading the seeds\' flags through the provider sees each change without a restart (real server)', () => {
  let repo: ExampleRepo | undefined;
  let provider: RolloutProvider | undefined;
  afterEach(async () => {
    await provider?.onClose();
    await repo?.dispose();
    provider = undefined;
    repo = undefined;
  });

  /** The example applied once, and a service's provider connected to its environment's database. */
  const start = async (example: string, environment: string): Promise<{ repo: ExampleRepo; provider: RolloutProvider }> => {
    repo = await exampleRepo(example, server!);
    const first = await repo.run(['apply', '--env', environment]);
    expect(first.code, first.stderr).toBe(0);
    const url = repo.env[`ROLLOUT_TEST_${environment.toUpperCase()}_URL`];
    expect(url).toBeDefined();
    provider = new RolloutProvider({ connectionString: url, environment, pollIntervalMs: 600_000 });
    await provider.initialize();
    return { repo, provider };
  };
  const objectOf = async (p: RolloutProvider, key: string, context: Record<string, string>) => (await p.resolveObjectEvaluation(key, {}, context)).value;

  it('seed 001 §9 "Feature flags responsive": internal testing starts and safe mode trips in the running service', { timeout: 300_000 }, async () => {
    const { repo: r, provider: p } = await start('seed-001-day0-cutover', 'staging');
    const staff = { targetingKey: 'staff-7', role: 'staff' };
    expect(await objectOf(p, 'ranker.policy', staff)).toEqual({ version: 'epsilon_greedy_v1', epsilon: 0 });
    const moved = nextChange(p, 'ranker.policy');
    await r.edit('staging', (text) => setRollout(text, 'ranker.policy', { stage: 'dark' }));
    expect((await r.run(['apply', '--env', 'staging'])).code).toBe(0);
    await moved;
    expect(await objectOf(p, 'ranker.policy', staff)).toEqual({ version: 'epsilon_greedy_v1', epsilon: 0.08 });
    expect(await objectOf(p, 'ranker.policy', { targetingKey: 'user-42', role: 'member' })).toEqual({ version: 'epsilon_greedy_v1', epsilon: 0 });

    const tripped = nextChange(p, 'global.safe_mode');
    expect((await r.run(['kill', '--env', 'staging', '--flag', 'global.safe_mode', '--reason', 'burn rate 3.1'])).code).toBe(0);
    await tripped;
    expect(await objectOf(p, 'global.safe_mode', {})).toEqual({ enabled: true });
  });

  it('seed 002 §4 "Enable kill switch first … Restart API server": the API sees Phase 6 metrics on, then off again, without a restart', { timeout: 300_000 }, async () => {
    const { repo: r, provider: p } = await start('seed-002-staging-rollout', 'staging');
    const run = { targetingKey: 'run-1' };
    expect(await objectOf(p, 'phase6_metrics', run)).toEqual({ enabled: false });
    const on = nextChange(p, 'phase6_metrics');
    await r.edit('staging', (text) => setRollout(text, 'phase6_metrics', { stage: 'canary', percent: 100 }));
    expect((await r.run(['apply', '--env', 'staging'])).code).toBe(0);
    await on;
    expect(await objectOf(p, 'phase6_metrics', run)).toEqual({ enabled: true });
    const off = nextChange(p, 'phase6_metrics');
    await r.edit('staging', (text) => setRollout(text, 'phase6_metrics', { stage: 'off' }));
    expect((await r.run(['apply', '--env', 'staging'])).code).toBe(0);
    await off;
    expect(await objectOf(p, 'phase6_metrics', run)).toEqual({ enabled: false });
  });

  it('seed 003 "Restart service after env var changes": the planning engine scores plans once scoring is on, and stops after the rollback, without a restart', { timeout: 300_000 }, async () => {
    const { repo: r, provider: p } = await start('seed-003-stream5-scoring', 'staging');
    const key = 'feature.v1_planning_scoring';
    const plan = { targetingKey: 'user-9' };
    const move = async (to: Parameters<typeof setRollout>[2], now?: Date) => {
      const changed = nextChange(p, key);
      await r.edit('staging', (text) => setRollout(text, key, to));
      const applied = await r.run(['apply', '--env', 'staging'], now ? { now } : {});
      expect(applied.code, applied.stderr).toBe(0);
      await changed;
    };
    expect(await objectOf(p, key, plan)).toEqual({ version: 'none', total: 0 });
    // The scoring's exit criterion compares plan errors with before the move: plans generated, measured on both sides.
    await r.query('staging', `INSERT INTO public.plan_jobs (job_id, user_id, status, result_data) SELECT 'job-' || g, 'u', 'completed', '{"scoring": {"version": "fixed-weight-v1", "total": 0.72}}' FROM generate_series(1, 10) g`);
    const rise = async () =>
      (JSON.parse((await r.run(['health', '--env', 'staging', '--format', 'json'])).stdout) as { results: { name: string; status: string; value?: number }[] }).results.find((m) => m.name === 'rise in plan errors since the move');
    expect(await rise()).toMatchObject({ value: 0 });
    await move({ stage: 'dark' });
    expect(await rise()).toMatchObject({ status: 'healthy', value: 0 });
    await move({ stage: 'canary', percent: 100 }, later(5 * MINUTE + 30_000));
    expect(await objectOf(p, key, plan)).toMatchObject({ version: 'fixed-weight-v1', total: 0.72 });
    await move({ stage: 'off' });
    expect(await objectOf(p, key, plan)).toEqual({ version: 'none', total: 0 });
  });
});
