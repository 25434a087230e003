/**
 * Seed 002 (Phase 6 staging rollout) walked with the real CLI: index migrations after a
 * backup, both switches off by default, then enabled one stage at a time; enabling
 * consolidated metrics before Phase 6 metrics is refused; switching both off never is.
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
  const switches = async () => {
    const serving = await readServing(repo, 'staging');
    const of = async (key: string) => {
      const on = serving.servedValue(key, UNITS);
      // rollout.evaluate, the SQL reader, serves the same units.
      expect(await servedValueInSql(repo, 'staging', key, UNITS)).toEqual(on);
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
});
