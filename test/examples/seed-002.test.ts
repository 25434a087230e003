/**
 * Seed 002 (Phase 6 staging rollout) walked with the real CLI: index migrations after a
 * backup, both switches off by default, then enabled one stage at a time; enabling
 * consolidated metrics before Phase 6 metrics is refused; switching both off never is. Then
 * production as the guide's Production Rollout Steps take it: Day 1 to Day 4 by promotion,
 * each stage soaked in staging first, and back to Stage 1 and Stage 0.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Position } from '../../actions/engine/stages/ladder.ts';
import { databaseTargets } from '../support/databases.ts';
import { recordHealthy } from './measurements.ts';
import { readServing, servedValueInSql, unitIds } from './serving.ts';
import { days, exampleRepo, later, setRollout, STAND_IN_ENV, type ExampleRepo } from './support.ts';

const ON: Position = { stage: 'canary', percent: 100 };
const ENABLED = { enabled: true };
const DISABLED = { enabled: false };
const UNITS = unitIds(1_000, 'run-');
/** consolidated_metrics' exit criteria at Stage 2, watched for its first 24 hours. */
const CONSOLIDATED_CRITERIA = ['consolidated metrics response time', 'consolidated metrics query time'];

describe.each(databaseTargets())('examples/seed-002-staging-rollout on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-002-staging-rollout', target);
  });
  afterEach(() => repo.dispose());

  const set = (key: string, to: Position) => repo.edit('staging', (text) => setRollout(text, key, to));

  /** After an apply, per switch: how many of 1,000 units the provider's evaluator serves it on to, and what a plain read of the value table says. */
  const switches = async (environment = 'staging') => {
    const serving = await readServing(repo, environment);
    const of = async (key: string) => {
      const on = serving.servedValue(key, UNITS);
      // rollout.evaluate, the SQL reader, serves the same units.
      expect(await servedValueInSql(repo, environment, key, UNITS)).toEqual(on);
      return { on: on.length, plain: serving.plain(key) };
    };
    return { phase6_metrics: await of('phase6_metrics'), consolidated_metrics: await of('consolidated_metrics') };
  };

  /** The double-counting criterion measured healthy for `hours` at phase6_metrics' stage (measurements.ts). */
  const measuredHealthy = (hours: number) => recordHealthy(repo, 'staging', 'phase6_metrics', ['double counting'], hours);

  it('backs up, migrates, and enables the switches one stage at a time', { timeout: 300_000 }, async () => {
    const first = await repo.run(['apply', '--env', 'staging']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const backup = /^ {2}backup: (.+)$/m.exec(first.stdout)?.[1];
    expect(backup).toBeDefined();
    // Where the CLI says it wrote it: inside the repository, as the environment file says.
    const backupFile = resolve(backup!);
    expect(existsSync(backupFile)).toBe(true);
    expect(backupFile.startsWith(repo.root)).toBe(true);
    expect(backupFile).toMatch(/staging-\d{8}T\d{6}Z\.(tar\.gz|dump)$/);
    const indexes = await repo.query<{ indexname: string }>('staging', "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx_%' ORDER BY 1");
    expect(indexes.map((r) => r.indexname)).toEqual([
      'idx_ab_test_id',
      'idx_ab_validity',
      'idx_dashboard_events_event_type',
      'idx_dashboard_events_run_id',
      'idx_phase_metrics_created_at',
      'idx_phase_metrics_run_created',
      'idx_phase_metrics_run_id',
      'idx_phases_run_state',
    ]);
    // "Kill switches default to OFF": at stage off no unit is served on, and a plain read says off.
    expect(await switches()).toEqual({ phase6_metrics: { on: 0, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });

    // Stage 2 before Stage 1: refused, nothing applied.
    await set('consolidated_metrics', ON);
    const early = await repo.run(['apply', '--env', 'staging']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('consolidated_metrics depends on phase6_metrics, which is off; turn phase6_metrics on first.');

    // Stage 1: telemetry only.
    await set('consolidated_metrics', { stage: 'off' });
    await set('phase6_metrics', ON);
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    // On for every unit through the definitions; the value table, read plainly, stays off until full.
    expect(await switches()).toEqual({ phase6_metrics: { on: UNITS.length, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });
    // Stage 2: consolidated metrics, a day after Phase 6 metrics went on ("Day 3"), not before.
    await set('consolidated_metrics', ON);
    const sameDay = await repo.run(['apply', '--env', 'staging'], { now: later(days(1) - 3_600_000) });
    expect(sameDay.code).toBe(1);
    expect(sameDay.stderr).toMatch(/phase6_metrics has been on since \S+: 23(\.0)? h of the 24 h consolidated_metrics waits for; ((59\.\d|60\.0) min|1(\.0)? h) left before consolidated_metrics may move\./);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + 60_000) })).code).toBe(0);
    // Stage 3: full, Phase 6 first (consolidated may not be ahead of it), each after a day.
    await set('consolidated_metrics', { stage: 'full' });
    const ahead = await repo.run(['plan', '--env', 'staging'], { now: later(days(2)) });
    expect(ahead.code).toBe(1);
    expect(ahead.stdout).toContain('consolidated_metrics would be ahead of phase6_metrics, which it depends on');
    await set('phase6_metrics', { stage: 'full' });
    await measuredHealthy(26);
    await recordHealthy(repo, 'staging', 'consolidated_metrics', CONSOLIDATED_CRITERIA, 25);
    // At full the value table serves {enabled: true}: the API is deployed with both switches on, so its 200 check runs and
    // passes, and /health's kill_switches agree with the flags (the health check compares them).
    const fullApply = async () => (await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + 60_000) })).code;
    STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '1';
    STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '1';
    try {
      expect(await fullApply()).toBe(0);
    } finally {
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '0';
      STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '0';
    }
    expect(await switches()).toEqual({ phase6_metrics: { on: UNITS.length, plain: ENABLED }, consolidated_metrics: { on: UNITS.length, plain: ENABLED } });

    // Rollback (seed 002, 5a): both switches off at once, never refused.
    await set('phase6_metrics', { stage: 'off' });
    await set('consolidated_metrics', { stage: 'off' });
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    const stages = await repo.query<{ key: string; stage: string }>('staging', 'SELECT key, stage FROM rollout.flag_rollouts ORDER BY key');
    expect(stages).toEqual([
      { key: 'consolidated_metrics', stage: 'off' },
      { key: 'phase6_metrics', stage: 'off' },
    ]);
    expect(await switches()).toEqual({ phase6_metrics: { on: 0, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });
  });
  it('Emergency 4: double counting at Stage 1 rolls phase6_metrics back to off by itself, and the API reads off again', { timeout: 300_000 }, async () => {
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await set('phase6_metrics', ON);
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    expect((await switches()).phase6_metrics.on).toBe(UNITS.length);
    // A phase whose total counts second-opinion tokens twice.
    await repo.query('staging', `INSERT INTO public.phase_metrics (run_id, phase_id, retrieval_tokens, second_opinion_tokens, evidence_request_tokens, base_tokens, total_tokens)
                                 VALUES ('test-run', 'phase-double', 12345, 6789, 3456, 98765, 121355 + 6789)`);
    const health = await repo.run(['health', '--env', 'staging', '--format', 'json']);
    expect(health.code).toBe(1);
    const report = JSON.parse(health.stdout) as { results: { name: string; status: string; actions?: { kind: string; outcome?: string; to?: unknown }[] }[] };
    expect(report.results.find((r) => r.name === 'double counting')).toMatchObject({
      status: 'breach',
      actions: expect.arrayContaining([expect.objectContaining({ kind: 'stage_rollback', outcome: 'rolled back', to: { stage: 'off' } })]) as unknown,
    });
    expect(await repo.query('staging', "SELECT stage, recorded_kind FROM rollout.flag_rollouts WHERE key = 'phase6_metrics'")).toEqual([{ stage: 'off', recorded_kind: 'auto-rollback' }]);
    expect(await switches()).toEqual({ phase6_metrics: { on: 0, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });
  });
  it('Performance Degradation in Stage 2\'s first 24 hours: a slow consolidated metrics endpoint rolls consolidated_metrics back to off alone', { timeout: 300_000 }, async () => {
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await set('phase6_metrics', ON);
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    await set('consolidated_metrics', ON);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + 60_000) })).code).toBe(0);
    // "Consolidated metrics: < 100ms": the endpoint answers in 300 ms, and its query as slowly.
    await repo.query('staging', "INSERT INTO public.api_requests (path, status, duration_ms) SELECT '/api/dashboard/runs/{id}/consolidated-metrics', 200, 300 FROM generate_series(1, 40)");
    const health = await repo.run(['health', '--env', 'staging', '--format', 'json']);
    expect(health.code).toBe(1);
    const report = JSON.parse(health.stdout) as { results: { name: string; status: string; flags?: string[]; actions?: { kind: string; flag?: string; outcome?: string }[] }[] };
    expect(report.results.find((r) => r.name === 'consolidated metrics response time')).toMatchObject({
      status: 'breach',
      flags: ['consolidated_metrics'],
      actions: expect.arrayContaining([expect.objectContaining({ kind: 'stage_rollback', flag: 'consolidated_metrics', outcome: 'rolled back' })]) as unknown,
    });
    expect(await repo.query('staging', 'SELECT key, stage FROM rollout.flag_rollouts ORDER BY key')).toEqual([
      { key: 'consolidated_metrics', stage: 'off' },
      { key: 'phase6_metrics', stage: 'canary' },
    ]);
    expect(await switches()).toEqual({ phase6_metrics: { on: UNITS.length, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });
  });

  it('Production Rollout Steps: production walked Day 1 to Day 4 by promotion, each stage soaked in staging first, then rolled back to Stage 1 and Stage 0', { timeout: 600_000 }, async () => {
    const apply = async (environment: string, now?: Date) => {
      const run = await repo.run(['apply', '--env', environment], now ? { now } : {});
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return run;
    };
    const production = (key: string, to: Position) => repo.edit('production', (text) => setRollout(text, key, to));
    const stages = (environment: string) => repo.query(environment, 'SELECT key, stage, percent::int AS percent FROM rollout.flag_rollouts ORDER BY key');
    const promote = async (now: Date) => {
      const run = await repo.run(['promote', '--from', 'staging', '--to', 'production', '--write'], { now });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return run.stdout;
    };
    /** The soaks below are a day at each rung; every move is real, so "a day later" is a day after the latest one. */
    const dayLater = () => later(days(1) + 120_000);
    await apply('staging');

    // Production's first apply does not adopt what staging has not reached, nor what it has reached but not soaked.
    await production('phase6_metrics', ON);
    const unreached = await repo.run(['apply', '--env', 'production']);
    expect(unreached.code).toBe(1);
    expect(unreached.stderr).toContain('phase6_metrics would start at canary 100%, but staging (its upstream) is at off');
    await set('phase6_metrics', ON);
    await apply('staging'); // Staging, Stage 1
    const unsoaked = await repo.run(['apply', '--env', 'production']);
    expect(unsoaked.code).toBe(1);
    expect(unsoaked.stderr).toMatch(/phase6_metrics would start at canary 100%, but staging \(its upstream\) has not held it there for its soak \(phase6_metrics has been at canary 100% in staging since \S+: [\d.]+ m?s of 24 h soaked; 24(\.0)? h to go\)/);
    expect(await repo.query('production', 'SELECT count(*)::int AS entries FROM rollout.ledger')).toEqual([{ entries: 0 }]);

    // Day 1: "Deploy code, run migrations, keep kill switches OFF".
    await production('phase6_metrics', { stage: 'off' });
    const day1 = await apply('production');
    expect(day1.stdout.match(/migrated migrations\/\S+/g)).toHaveLength(5);
    expect(await switches('production')).toEqual({ phase6_metrics: { on: 0, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });

    // Day 2: Stage 1, once staging has held it a day; not before.
    expect(await promote(later(days(1) / 2))).toContain('Nothing to promote');
    expect(await promote(dayLater())).toMatch(/phase6_metrics.*off → canary 100%/);
    await apply('production', dayLater());
    expect(await switches('production')).toEqual({ phase6_metrics: { on: UNITS.length, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });

    // Day 3: Stage 2, a day after Stage 1 in staging, then held a day there before production gets it.
    await set('consolidated_metrics', ON);
    await apply('staging', dayLater());
    const early = await promote(later(days(1) / 2));
    expect(early).toContain('Nothing to promote');
    expect(early).toMatch(/consolidated_metrics has been at canary 100% in staging since \S+: 12(\.0)? h of 24 h soaked; 12(\.0)? h to go/);
    expect(await promote(dayLater())).toMatch(/consolidated_metrics.*off → canary 100%/);
    await apply('production', dayLater());
    expect(await switches('production')).toEqual({ phase6_metrics: { on: UNITS.length, plain: DISABLED }, consolidated_metrics: { on: UNITS.length, plain: DISABLED } });

    // Day 4: full production, staging first; production's own soak and exit criteria gate it too.
    await set('phase6_metrics', { stage: 'full' });
    await set('consolidated_metrics', { stage: 'full' });
    await measuredHealthy(26);
    await recordHealthy(repo, 'staging', 'consolidated_metrics', CONSOLIDATED_CRITERIA, 25);
    // At full the value table serves {enabled: true}: the API runs with both switches on (its 200 check runs, /health agrees).
    STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '1';
    STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '1';
    try {
      await apply('staging', dayLater());
      // No criteria measured in production yet: unknown is not healthy, so nothing moves.
      const unmeasured = await promote(dayLater());
      expect(unmeasured).toContain('Nothing to promote');
      expect(unmeasured).toContain("no measurements of 'double counting'");
      await recordHealthy(repo, 'production', 'phase6_metrics', ['double counting'], 26);
      await recordHealthy(repo, 'production', 'consolidated_metrics', CONSOLIDATED_CRITERIA, 25);
      const day4 = await promote(dayLater());
      expect(day4).toMatch(/phase6_metrics.*canary 100% → full/);
      expect(day4).toMatch(/consolidated_metrics.*canary 100% → full/);
      await apply('production', dayLater());
      expect(await stages('production')).toEqual([
        { key: 'consolidated_metrics', stage: 'full', percent: null },
        { key: 'phase6_metrics', stage: 'full', percent: null },
      ]);
      expect(await switches('production')).toEqual({ phase6_metrics: { on: UNITS.length, plain: ENABLED }, consolidated_metrics: { on: UNITS.length, plain: ENABLED } });

      // "If issues detected, rollback to Stage 1 or Stage 0", in production itself and at once: consolidated metrics first (Stage 1)…
      await production('consolidated_metrics', { stage: 'off' });
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '0';
      await apply('production');
      expect(await switches('production')).toEqual({ phase6_metrics: { on: UNITS.length, plain: ENABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });
      // …then Phase 6 telemetry too (Stage 0).
      await production('phase6_metrics', { stage: 'off' });
      STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '0';
      await apply('production');
    } finally {
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '0';
      STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '0';
    }
    expect(await stages('production')).toEqual([
      { key: 'consolidated_metrics', stage: 'off', percent: null },
      { key: 'phase6_metrics', stage: 'off', percent: null },
    ]);
    expect(await switches('production')).toEqual({ phase6_metrics: { on: 0, plain: DISABLED }, consolidated_metrics: { on: 0, plain: DISABLED } });
    // Staging stays where it is: production's rollback is production's.
    expect(await stages('staging')).toEqual([
      { key: 'consolidated_metrics', stage: 'full', percent: null },
      { key: 'phase6_metrics', stage: 'full', percent: null },
    ]);
  });
});
