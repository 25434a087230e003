/**
 * Seed 002 (Phase 6 staging rollout), requirement by requirement: the guide's migrations,
 * index and EXPLAIN verification, endpoint smoke tests and data validation as checks that
 * pass on good data and fail on broken data, and its performance targets as monitors. The
 * README's requirement table (examples/seed-002-staging-rollout/README.md) names these tests.
 */
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import { days, exampleRepo, later, setRollout, STAND_IN_ENV, type CliRun, type ExampleRepo } from './support.ts';
import { expectStatus, namesWith, openGuide, whileBroken, whileFaulty, type OpenGuide } from './guide-support.ts';

const SMOKE = 'smoke tests';
const DATA = 'data validation';
const OFF_503 = `${SMOKE} / consolidated metrics answer 503 while the kill switch is off`;
const ON_200 = `${SMOKE} / consolidated metrics answer 200 while the kill switch is on`;

/**
 * Telemetry as the service writes it, 10,000 phases (the guide's baseline: "< 100ms for 10K
 * records"): a quarter of them in the big run telemetry-collection-v7, the rest over 39 runs,
 * spread over the last week; each phase's total is the sum of its four categories.
 */
const PHASE_METRICS = `
  INSERT INTO public.phase_metrics (run_id, phase_id, retrieval_tokens, second_opinion_tokens, evidence_request_tokens, base_tokens, total_tokens, created_at)
  SELECT CASE WHEN g % 4 = 0 THEN 'telemetry-collection-v7' ELSE 'run-' || (g % 40) END, 'phase-' || g,
         100, 10, 5, 1000 + g % 7, 1115 + g % 7, now() - ((g * 7919) % 10000) * interval '1 minute'
  FROM generate_series(1, 10000) g`;

/** The checks' API_URL pointed, for the length of `body`, at a server that answers every request 200 with `answer`. */
async function whileAnswering(repo: ExampleRepo, answer: unknown, body: () => Promise<void>): Promise<void> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = repo.env.API_URL;
  repo.env.API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await body();
  } finally {
    repo.env.API_URL = url;
    await new Promise((resolve) => server.close(resolve));
  }
}

describe.each(databaseTargets())('seed 002 guide on $name', (target) => {
  let repo: ExampleRepo;
  let guide: OpenGuide | undefined;
  let firstApply: CliRun;
  const open = (): OpenGuide => {
    if (!guide) throw new Error('the guide is closed');
    return guide;
  };
  beforeAll(async () => {
    repo = await exampleRepo('seed-002-staging-rollout', target);
    firstApply = await repo.run(['apply', '--env', 'staging']);
    guide = await openGuide(repo, 'staging');
  }, 300_000);
  afterAll(async () => {
    await guide?.close();
    await repo?.dispose();
  });

  it('applies the guide: backup, its migration scripts in order, both switches off, every smoke test passes', async () => {
    expect(firstApply.stderr).toBe('');
    expect(firstApply.code).toBe(0);
    expect(firstApply.stdout).toMatch(/^ {2}backup: .+staging-\d{8}T\d{6}Z\.(tar\.gz|dump)$/m);
    const files = (await readdir(join(repo.root, 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    expect(files.slice(0, 3)).toEqual(['0001_phase6_tables.sql', '0002_performance_indexes.sql', '0003_ab_test_results.sql']);
    expect(firstApply.stdout.match(/migrated migrations\/\S+/g)).toEqual(files.map((f) => `migrated migrations/${f}`));
    const stages = await open().sql('SELECT key, stage FROM rollout.flag_rollouts ORDER BY key');
    expect(stages).toEqual([
      { key: 'consolidated_metrics', stage: 'off' },
      { key: 'phase6_metrics', stage: 'off' },
    ]);
    const report = await open().verify();
    expect(namesWith(report, 'fail').concat(namesWith(report, 'error'))).toEqual([]);
    // when_flag reads what the value table serves: the off value at stage off, so the 503 check runs and the 200 one waits.
    expect(namesWith(report, 'skipped')).toEqual([ON_200]);
  });

  it('2b the migration scripts are idempotent: run again, they change nothing', async () => {
    // The schema's shape (tables, columns, indexes, views) and the rows the scripts leave behind.
    const shape = `SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public')::int AS indexes,
                          (SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public')::int AS columns,
                          (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public')::int AS relations,
                          (SELECT count(*) FROM public.phase_metrics)::int AS phase_metrics, (SELECT count(*) FROM public.ab_test_results)::int AS ab_results`;
    const before = await open().sql(shape);
    for (const file of (await readdir(join(repo.root, 'migrations'))).filter((f) => f.endsWith('.sql')).sort()) await open().rerunMigration(file);
    expect(await open().sql(shape)).toEqual(before);
    expect(namesWith(await open().verify(), 'fail')).toEqual([]);
  });

  it('2c the Phase 6 tables and the eight expected indexes are checked: a missing one fails', async () => {
    await whileBroken(open(), 'ALTER TABLE public.ab_test_results RENAME TO ab_test_results_moved', 'ALTER TABLE public.ab_test_results_moved RENAME TO ab_test_results', async () => {
      const result = await open().check(`${SMOKE} / Phase 6 tables exist`);
      expectStatus(result, 'fail');
      expect(result.detail).toBe('missing: table public.ab_test_results');
    });
    await whileBroken(open(), 'DROP INDEX public.idx_ab_validity', 'CREATE INDEX idx_ab_validity ON public.ab_test_results (is_valid)', async () => {
      const result = await open().check(`${SMOKE} / expected indexes exist`);
      expectStatus(result, 'fail');
      expect(result.detail).toBe('missing: index public.idx_ab_validity');
    });
    expectStatus(await open().check(`${SMOKE} / expected indexes exist`), 'pass');
  });

  it('3 on 10,000 phase metrics the planner itself picks each index the guide names; each EXPLAIN ANALYZE check sees its index scan run, with its actual rows, and fails without its index', async () => {
    const g = open();
    await g.sql(PHASE_METRICS);
    await g.sql(`INSERT INTO public.dashboard_events (run_id, event_type) SELECT 'run-' || (g % 100), 'TYPE_' || (g % 50) FROM generate_series(1, 5000) g;
                 UPDATE public.dashboard_events SET event_type = 'PHASE_FAILED' WHERE event_type = 'TYPE_7';
                 INSERT INTO public.phases (run_id, phase_id, state) SELECT CASE WHEN r = 3 THEN 'test-run' ELSE 'run-' || r END, 'phase-' || p, CASE WHEN p % 5 = 0 THEN 'COMPLETE' ELSE 'RUNNING' END
                 FROM generate_series(1, 1000) r, generate_series(1, 10) p;
                 ANALYZE public.phase_metrics; ANALYZE public.dashboard_events; ANALYZE public.phases`);
    // The rows each index scan actually returns (EXPLAIN ANALYZE): the first 1000 of v7's 2500 phases
    // (the LIMIT stops the ordered scan), the 100 PHASE_FAILED events, test-run's 2 complete phases.
    const cases: [string, string, string, string, number][] = [
      ["SELECT * FROM phase_metrics WHERE run_id = 'telemetry-collection-v7' ORDER BY created_at DESC LIMIT 1000", 'idx_phase_metrics_run_created', 'consolidated metrics query uses idx_phase_metrics_run_created', 'ON public.phase_metrics (run_id, created_at DESC)', 1000],
      ["SELECT * FROM dashboard_events WHERE event_type = 'PHASE_FAILED' ORDER BY created_at DESC LIMIT 100", 'idx_dashboard_events_event_type', 'dashboard events by type use idx_dashboard_events_event_type', 'ON public.dashboard_events (event_type)', 100],
      ["SELECT * FROM phases WHERE run_id = 'test-run' AND state = 'COMPLETE'", 'idx_phases_run_state', 'phase status by run uses idx_phases_run_state', 'ON public.phases (run_id, state)', 2],
    ];
    for (const [query, index, check, definition, rows] of cases) {
      // Without the check's enable_seqscan = off: the planner's own choice on this data.
      const plan = JSON.stringify(await g.sql(`EXPLAIN (FORMAT JSON) ${query}`));
      expect(plan).toContain(`"Index Name":"${index}"`);
      const passed = await g.check(`${SMOKE} / ${check}`);
      expectStatus(passed, 'pass');
      expect(passed.query).toMatch(/^EXPLAIN ANALYZE SELECT/);
      expect(passed.detail).toMatch(new RegExp(`^uses index ${index} \\(actual rows ${rows}(\\.00)? × 1 loop\\)$`));
      await whileBroken(g, `DROP INDEX public.${index}`, `CREATE INDEX ${index} ${definition}`, async () => {
        const result = await g.check(`${SMOKE} / ${check}`);
        expectStatus(result, 'fail');
        expect(result.detail).toContain(`the plan does not use index ${index}`);
      });
      expectStatus(await g.check(`${SMOKE} / ${check}`), 'pass');
    }
  });

  it('4 the health check wants 200 with the status body, and fails when the API answers 500', async () => {
    expectStatus(await open().check(`${SMOKE} / health check`), 'pass');
    await whileFaulty(repo, '/health', 500, async () => {
      const result = await open().check(`${SMOKE} / health check`);
      expectStatus(result, 'fail');
      expect(result.detail).toContain('expected HTTP 2xx, got HTTP 500');
    });
    // Post-rollout "Database connection is healthy": a 200 whose body says the database is not connected fails too.
    await whileAnswering(repo, { status: 'healthy', database: 'disconnected', qdrant: 'disabled', kill_switches: { phase6_metrics: false, consolidated_metrics: false } }, async () => {
      const result = await open().check(`${SMOKE} / health check`);
      expectStatus(result, 'fail');
      expect(result.detail).toContain("the body breaks contract 'health-response'");
      expect(result.detail).toContain('database');
    });
    expectStatus(await open().check(`${SMOKE} / health check`), 'pass');
  });

  it('4 the health check\'s kill_switches must be what the flags serve: a switch reported on while its flag is off fails, and one reported off while it is on', async () => {
    const g = open();
    const health = `${SMOKE} / health check`;
    const passed = await g.check(health);
    expectStatus(passed, 'pass');
    expect(passed.detail).toBe('HTTP 200, body satisfies health-response, reports 2 flag(s) as live');
    // The service turned Phase 6 metrics on by itself: its flag, at off, serves {enabled: false}.
    STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '1';
    try {
      const result = await g.check(health);
      expectStatus(result, 'fail');
      expect(result.detail).toBe('the body does not report the live flags: /kill_switches/phase6_metrics is true, but flag phase6_metrics is off (live value {"enabled":false})');
    } finally {
      STAND_IN_ENV.AUTOPACK_ENABLE_PHASE6_METRICS = '0';
    }
    // The flag on as a plain read sees it, the service still off: it fails until the service follows.
    await g.sql("UPDATE public.feature_flags SET value = '{\"enabled\": true}' WHERE key = 'consolidated_metrics'");
    try {
      const result = await g.check(health);
      expectStatus(result, 'fail');
      expect(result.detail).toContain('/kill_switches/consolidated_metrics is false, but flag consolidated_metrics is on');
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '1';
      expectStatus(await g.check(health), 'pass');
    } finally {
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '0';
      await g.sql("UPDATE public.feature_flags SET value = '{\"enabled\": false}' WHERE key = 'consolidated_metrics'");
    }
  });

  it('4 the runs API checks send the API key, fail without the right one or on a 500, and never print it', async () => {
    const names = ['list runs', 'get specific run', 'check run status'].map((n) => `${SMOKE} / ${n}`);
    for (const name of names) {
      const result = await open().check(name);
      expectStatus(result, 'pass');
      expect(JSON.stringify(result)).not.toContain(STAND_IN_ENV.AUTOPACK_API_KEY);
    }
    const key = repo.env.AUTOPACK_API_KEY;
    repo.env.AUTOPACK_API_KEY = 'not-the-key';
    try {
      for (const name of names) {
        const result = await open().check(name);
        expectStatus(result, 'fail');
        expect(result.detail).toContain('got HTTP 401');
      }
    } finally {
      repo.env.AUTOPACK_API_KEY = key;
    }
    await whileFaulty(repo, '/api/runs/test-run-id/status', 500, async () => {
      expectStatus(await open().check(`${SMOKE} / check run status`), 'fail');
    });
  });

  it('4 consolidated metrics: 200 with the token fields while the switch is on; while it is off, 503 "disabled" instead', async () => {
    const g = open();
    // At stage off the value table serves the off value, and the API (default OFF) says disabled.
    expectStatus(await g.check(OFF_503), 'pass');
    expectStatus(await g.check(ON_200), 'skipped');
    // An API that ignores the switch (answers 200 while off) fails the check.
    STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '1';
    try {
      const result = await g.check(OFF_503);
      expectStatus(result, 'fail');
      expect(result.detail).toContain('expected HTTP 503, got HTTP 200');
    } finally {
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '0';
    }
    // The switch on as the service sees it: the value it reads, and the API's own setting.
    await g.sql("UPDATE public.feature_flags SET value = '{\"enabled\": true}' WHERE key = 'consolidated_metrics'");
    try {
      // On, but the API still says disabled: the 200 check fails.
      const result = await g.check(ON_200);
      expectStatus(result, 'fail');
      expect(result.detail).toContain('expected HTTP 200, got HTTP 503');
      expectStatus(await g.check(OFF_503), 'skipped');
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '1';
      expectStatus(await g.check(ON_200), 'pass');
      // A 200 without the token fields the guide lists fails too.
      await whileAnswering(repo, { total_tokens: 121355, total_phases: 10 }, async () => {
        const partial = await g.check(ON_200);
        expectStatus(partial, 'fail');
        expect(partial.detail).toContain("the body breaks contract 'consolidated-metrics'");
      });
    } finally {
      STAND_IN_ENV.AUTOPACK_ENABLE_CONSOLIDATED_METRICS = '0';
      await g.sql("UPDATE public.feature_flags SET value = '{\"enabled\": false}' WHERE key = 'consolidated_metrics'");
    }
  });

  it('4 the A/B results endpoint returns valid results only when asked, and its checks fail on a 500', async () => {
    expectStatus(await open().check(`${SMOKE} / A/B results (valid only)`), 'pass');
    expectStatus(await open().check(`${SMOKE} / A/B results of one test`), 'pass');
    await whileFaulty(repo, '/api/dashboard/ab-results', 500, async () => {
      expectStatus(await open().check(`${SMOKE} / A/B results (valid only)`), 'fail');
      expectStatus(await open().check(`${SMOKE} / A/B results of one test`), 'fail');
    });
    // An API that ignores valid_only=true and answers an invalid comparison too fails the valid-only check.
    const both = [
      { test_id: 'v5-vs-v6', is_valid: true, token_delta: -1234, validity_errors: [] },
      { test_id: 'v4-vs-v5', is_valid: false, token_delta: 0, validity_errors: ['control and treatment have different commit SHAs'] },
    ];
    await whileAnswering(repo, both, async () => {
      const result = await open().check(`${SMOKE} / A/B results (valid only)`);
      expectStatus(result, 'fail');
      expect(result.detail).toContain("the body breaks contract 'ab-results-valid'");
    });
    expectStatus(await open().check(`${SMOKE} / A/B results (valid only)`), 'pass');
  });

  it('post-rollout 3 no double counting passes on real telemetry and fails on a phase whose total is not the sum of its parts', async () => {
    const g = open();
    expect((await g.sql<{ n: number }>('SELECT count(*)::int AS n FROM public.phase_metrics'))[0].n).toBeGreaterThan(0);
    expectStatus(await g.check(`${DATA} / no double counting (total equals the sum of the four categories)`), 'pass');
    expect(await g.monitor('double counting')).toMatchObject({ status: 'healthy', value: 0 });
    await whileBroken(g, `INSERT INTO public.phase_metrics (run_id, phase_id, retrieval_tokens, second_opinion_tokens, evidence_request_tokens, base_tokens, total_tokens)
                          VALUES ('test-run', 'phase-double', 12345, 6789, 3456, 98765, 121355 + 6789)`,
      "DELETE FROM public.phase_metrics WHERE phase_id = 'phase-double'", async () => {
        const result = await g.check(`${DATA} / no double counting (total equals the sum of the four categories)`);
        expectStatus(result, 'fail');
        expect(result.detail).toContain('phase-double');
        expect(await g.monitor('double counting')).toMatchObject({ status: 'breach', value: 1 });
      });
  });

  it('post-rollout 5 A/B results persist with their validity errors: an invalid one without a reason, or a valid one with errors, fails', async () => {
    const g = open();
    await g.sql(`INSERT INTO public.ab_test_results (test_id, is_valid, token_delta, validity_errors, control_run_id, treatment_run_id)
                 VALUES ('v5-vs-v6', true, -1234, '[]', 'telemetry-v5', 'telemetry-v6'),
                        ('v4-vs-v5', false, 0, '["different commit SHAs"]', 'telemetry-v4', 'telemetry-v5')`);
    expectStatus(await g.check(`${DATA} / invalid A/B results say why`), 'pass');
    expectStatus(await g.check(`${DATA} / valid A/B results have no validity errors`), 'pass');
    await whileBroken(g, "INSERT INTO public.ab_test_results (test_id, is_valid, token_delta) VALUES ('v3-vs-v4', false, 0)", "DELETE FROM public.ab_test_results WHERE test_id = 'v3-vs-v4'", async () => {
      expectStatus(await g.check(`${DATA} / invalid A/B results say why`), 'fail');
    });
    await whileBroken(g, "UPDATE public.ab_test_results SET validity_errors = '[\"model hashes differ\"]' WHERE test_id = 'v5-vs-v6'", "UPDATE public.ab_test_results SET validity_errors = '[]' WHERE test_id = 'v5-vs-v6'", async () => {
      expectStatus(await g.check(`${DATA} / valid A/B results have no validity errors`), 'fail');
    });
  });

  it('1 metrics older than the 30-day retention fail the retention check', async () => {
    await whileBroken(open(), "UPDATE public.phase_metrics SET created_at = now() - interval '31 days' WHERE phase_id = 'phase-1' AND run_id = 'run-1'",
      "UPDATE public.phase_metrics SET created_at = now() WHERE phase_id = 'phase-1' AND run_id = 'run-1'", async () => {
        expectStatus(await open().check(`${DATA} / metrics retention (30 days)`), 'fail');
      });
  });

  it('6 Stage 1: phase metrics being collected breaches with no writes in the last hour', async () => {
    const g = open();
    expect(await g.monitor('phase metrics being collected')).toMatchObject({ status: 'healthy' });
    await whileBroken(g, "UPDATE public.phase_metrics SET created_at = now() - interval '2 hours'", 'UPDATE public.phase_metrics SET created_at = now()', async () => {
      expect(await g.monitor('phase metrics being collected')).toMatchObject({ status: 'breach', value: 0 });
    });
  });

  it('post-rollout 2 each API and database response-time target breaches above it, and is unknown without samples', async () => {
    const g = open();
    const api: [string, string, number][] = [
      ['/health response time', '/health', 10],
      ['/api/runs/{id} response time', '/api/runs/{id}', 50],
      ['consolidated metrics response time', '/api/dashboard/runs/{id}/consolidated-metrics', 100],
      ['A/B results response time', '/api/dashboard/ab-results', 200],
    ];
    const database: [string, string, number][] = [
      ['phase metrics write time', 'phase_metrics write', 10],
      ['dashboard events write time', 'dashboard_events write', 10],
      ['consolidated metrics query time', 'consolidated metrics query', 100],
      ['dashboard events query time', 'dashboard events query', 50],
      ['phase status query time', 'phase status query', 10],
    ];
    for (const [monitor, path, limit] of api) {
      expect(await g.monitor(monitor)).toMatchObject({ status: 'unknown' });
      await g.sql(`INSERT INTO public.api_requests (path, status, duration_ms) SELECT '${path}', 200, ${limit / 2} FROM generate_series(1, 40)`);
      expect(await g.monitor(monitor)).toMatchObject({ status: 'healthy', value: limit / 2 });
      await g.sql(`UPDATE public.api_requests SET duration_ms = ${limit * 3} WHERE path = '${path}'`);
      expect(await g.monitor(monitor)).toMatchObject({ status: 'breach', value: limit * 3 });
    }
    for (const [monitor, operation, limit] of database) {
      expect(await g.monitor(monitor)).toMatchObject({ status: 'unknown' });
      await g.sql(`INSERT INTO public.db_timings (operation, duration_ms) SELECT '${operation}', ${limit / 2} FROM generate_series(1, 40)`);
      expect(await g.monitor(monitor)).toMatchObject({ status: 'healthy', value: limit / 2 });
      await g.sql(`UPDATE public.db_timings SET duration_ms = ${limit * 3} WHERE operation = '${operation}'`);
      expect(await g.monitor(monitor)).toMatchObject({ status: 'breach', value: limit * 3 });
    }
  });

  it('post-rollout 1 "no errors in API logs": a 5xx in the API log breaches', async () => {
    const g = open();
    expect(await g.monitor('API errors')).toMatchObject({ status: 'healthy', value: 0 });
    await g.sql("INSERT INTO public.api_requests (path, status, duration_ms) VALUES ('/api/runs/{id}', 500, 12)");
    expect(await g.monitor('API errors')).toMatchObject({ status: 'breach', value: 1 });
    await g.sql('DELETE FROM public.api_requests');
  });

  it('production rollout: production is changed by promotion once staging has held Stage 1 for a day; Stage 2 a day after Stage 1; consolidated metrics roll back alone', { timeout: 300_000 }, async () => {
    await guide?.close();
    guide = undefined;
    // "Day 1: Deploy code, run migrations, keep kill switches OFF": production's own apply, both switches at off.
    const day1 = await repo.run(['apply', '--env', 'production']);
    expect(day1.stderr).toBe('');
    expect(day1.code).toBe(0);
    const files = (await readdir(join(repo.root, 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    expect(day1.stdout.match(/migrated migrations\/\S+/g)).toEqual(files.map((f) => `migrated migrations/${f}`));
    expect(await repo.query('production', 'SELECT key, stage FROM rollout.flag_rollouts ORDER BY key')).toEqual([
      { key: 'consolidated_metrics', stage: 'off' },
      { key: 'phase6_metrics', stage: 'off' },
    ]);
    await repo.edit('staging', (text) => setRollout(text, 'phase6_metrics', { stage: 'canary', percent: 100 }));
    const stage1 = await repo.run(['apply', '--env', 'staging']);
    expect(stage1.stderr).toBe('');
    expect(stage1.code).toBe(0);
    // Staging has not held Stage 1 for a day yet: nothing to promote.
    const waiting = await repo.run(['promote', '--from', 'staging', '--to', 'production']);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toContain('Nothing to promote');
    expect(waiting.stdout).toContain('phase6_metrics stays at off');
    const promote = await repo.run(['promote', '--from', 'staging', '--to', 'production'], { now: later(days(1) + 60_000) });
    expect(promote.stderr).toBe('');
    expect(promote.code).toBe(0);
    expect(promote.stdout).toMatch(/phase6_metrics.*off → canary 100%/);

    // Stage 2 on "Day 3", a day after Stage 1: the plan says how long is left before; then "Performance Degradation: Disable consolidated metrics endpoint first".
    await repo.edit('staging', (text) => setRollout(text, 'consolidated_metrics', { stage: 'canary', percent: 100 }));
    const early = await repo.run(['plan', '--env', 'staging'], { now: later(days(1) / 2) });
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/phase6_metrics has been on since \S+: 12(\.0)? h of the 24 h consolidated_metrics waits for; 12(\.0)? h left before consolidated_metrics may move\./);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + 60_000) })).code).toBe(0);
    await repo.edit('staging', (text) => setRollout(text, 'consolidated_metrics', { stage: 'off' }));
    const first = await repo.run(['apply', '--env', 'staging']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(await repo.query('staging', 'SELECT key, stage, percent::int AS percent FROM rollout.flag_rollouts ORDER BY key')).toEqual([
      { key: 'consolidated_metrics', stage: 'off', percent: null },
      { key: 'phase6_metrics', stage: 'canary', percent: 100 },
    ]);
  });
});
