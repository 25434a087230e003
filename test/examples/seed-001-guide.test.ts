/**
 * Seed 001 (Day-0 cutover), requirement by requirement: the guide's own SQL runs as checks
 * and passes on the seeded data, and each check fails when the data it guards is broken;
 * each alert threshold is a monitor on the real view that breaches on data past it. The
 * README's requirement table (examples/seed-001-day0-cutover/README.md) names these tests.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import { exampleRepo, type CliRun, type ExampleRepo } from './support.ts';
import { expectStatus, namesWith, openGuide, whileBroken, whileFaulty, type OpenGuide } from './guide-support.ts';

const USER = '00000000-0000-0000-0000-000000000001';

describe.each(databaseTargets())('seed 001 guide on $name', (target) => {
  let repo: ExampleRepo;
  let guide: OpenGuide;
  let firstApply: CliRun;
  let firstHealth: CliRun;
  beforeAll(async () => {
    repo = await exampleRepo('seed-001-day0-cutover', target);
    firstApply = await repo.run(['apply', '--env', 'staging']);
    firstHealth = await repo.run(['health', '--env', 'staging', '--no-act', '--format', 'json']);
    guide = await openGuide(repo, 'staging');
  }, 300_000);
  afterAll(async () => {
    await guide?.close();
    await repo?.dispose();
  });

  it('applies the guide: its migrations, the five flags, and every smoke check passes after apply', async () => {
    expect(firstApply.stderr).toBe('');
    expect(firstApply.code).toBe(0);
    const files = (await readdir(join(repo.root, 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    for (const file of files) expect(firstApply.stdout).toContain(`migrated migrations/${file}`);
    expect(firstApply.stdout).toMatch(/\d+ check\(s\) on staging: \d+ passed, 1 skipped/);
    const report = await guide.verify();
    expect(namesWith(report, 'fail').concat(namesWith(report, 'error'))).toEqual([]);
    expect(namesWith(report, 'skipped')).toEqual(['operations / safe mode means no exploration']);
    expect(report.results.length).toBeGreaterThanOrEqual(28);
    // 1.B: the five flags and the bootstrap values of those no rollout stages.
    const flags = await guide.sql<{ key: string; value: unknown }>('SELECT key, value FROM public.feature_flags ORDER BY key');
    expect(flags.map((f) => f.key)).toEqual(['crush_mode.enabled', 'global.safe_mode', 'learning.enabled', 'marketplace.suggest', 'ranker.policy']);
    const value = (key: string) => flags.find((f) => f.key === key)?.value;
    expect([value('global.safe_mode'), value('marketplace.suggest'), value('learning.enabled'), value('crush_mode.enabled')]).toEqual([{ enabled: false }, { enabled: true }, { enabled: true }, { enabled: false }]);
    // ranker.policy is staged (at off): the table holds its off value, ε = 0, until full (§5 Phase 1 "100% safe mode");
    // the guide's ε = 0.08 is the flag's value, served as far as the rollout allows (seed-001.test.ts walks it).
    expect(value('ranker.policy')).toEqual({ version: 'epsilon_greedy_v1', epsilon: 0 });
    expect(guide.env.flags.get('ranker.policy')?.value).toEqual({ version: 'epsilon_greedy_v1', epsilon: 0.08 });
  });

  it('migrations are safe to re-run: every file run again changes nothing and every check still passes', async () => {
    const counts = `SELECT (SELECT count(*) FROM public.interest_catalog)::int AS interests, (SELECT count(*) FROM public.marketplace_candidates)::int AS candidates,
                           (SELECT count(*) FROM public.user_interests)::int AS user_interests, (SELECT count(*) FROM public.marketplace_discovery_queue)::int AS queued,
                           (SELECT count(*) FROM pg_policies WHERE schemaname = 'public')::int AS policies, (SELECT count(*) FROM auth.users)::int AS users`;
    const before = await guide.sql(counts);
    for (const file of (await readdir(join(repo.root, 'migrations'))).filter((f) => f.endsWith('.sql')).sort()) await guide.rerunMigration(file);
    expect(await guide.sql(counts)).toEqual(before);
    const report = await guide.verify();
    expect(namesWith(report, 'fail').concat(namesWith(report, 'error'))).toEqual([]);
  });

  it('1.A migrations applied fails when the history lacks a migration or one failed', async () => {
    const [row] = await guide.sql<{ version: string }>('SELECT version::text AS version FROM rollout.schema_migrations ORDER BY version DESC LIMIT 1');
    await guide.sql('CREATE TEMP TABLE saved_history AS SELECT * FROM rollout.schema_migrations WHERE version = $1', [row.version]);
    await whileBroken(guide, `DELETE FROM rollout.schema_migrations WHERE version = ${row.version}`, 'INSERT INTO rollout.schema_migrations SELECT * FROM saved_history', async () => {
      expectStatus(await guide.check('smoke test / migrations applied'), 'fail');
    });
    expectStatus(await guide.check('smoke test / migrations applied'), 'pass');
    await whileBroken(guide, "UPDATE rollout.schema_migrations SET status = 'failed', error = 'canceling statement due to lock timeout' WHERE version = 6",
      "UPDATE rollout.schema_migrations SET status = 'applied', error = NULL WHERE version = 6", async () => {
        const result = await guide.check('smoke test / no migration failed');
        expectStatus(result, 'fail');
        expect(result.detail).toContain('lock timeout');
      });
  });

  it('1.B the bootstrap flag checks fail when one of the five is missing, not when a flag is added', async () => {
    await guide.sql("CREATE TEMP TABLE saved_flag AS SELECT * FROM public.feature_flags WHERE key = 'crush_mode.enabled'");
    await whileBroken(guide, "DELETE FROM public.feature_flags WHERE key = 'crush_mode.enabled'", 'INSERT INTO public.feature_flags SELECT * FROM saved_flag', async () => {
      expectStatus(await guide.check('smoke test / feature flags bootstrapped'), 'fail');
      expectStatus(await guide.check('smoke test / the five bootstrap flags'), 'fail');
    });
    // A flag added later is no failure; one of the five missing is, whatever else is there.
    await whileBroken(guide, "INSERT INTO public.feature_flags (key, value) VALUES ('checkout.v2', '{\"enabled\": true}')", "DELETE FROM public.feature_flags WHERE key = 'checkout.v2'", async () => {
      expectStatus(await guide.check('smoke test / feature flags bootstrapped'), 'pass');
      expectStatus(await guide.check('smoke test / the five bootstrap flags'), 'pass');
      await whileBroken(guide, "DELETE FROM public.feature_flags WHERE key = 'crush_mode.enabled'", 'INSERT INTO public.feature_flags SELECT * FROM saved_flag', async () => {
        expectStatus(await guide.check('smoke test / feature flags bootstrapped'), 'pass');
        expectStatus(await guide.check('smoke test / the five bootstrap flags'), 'fail');
      });
    });
  });

  it('1.C edge functions health fails when the function answers 500', async () => {
    expectStatus(await guide.check('smoke test / edge functions health'), 'pass');
    await whileFaulty(repo, '/functions/v1/health', 500, async () => {
      const result = await guide.check('smoke test / edge functions health');
      expectStatus(result, 'fail');
      expect(result.detail).toContain('expected HTTP 2xx, got HTTP 500');
    });
  });

  it('2.A critical tables exist fails when one of the five is missing', async () => {
    await whileBroken(guide, 'ALTER TABLE public.events_queue RENAME TO events_queue_moved', 'ALTER TABLE public.events_queue_moved RENAME TO events_queue', async () => {
      const result = await guide.check('smoke test / critical tables exist (5 rows)');
      expectStatus(result, 'fail');
      expect(result.detail).toBe('expected 5 row(s); got 4 row(s)');
    });
  });

  it("2.A the guide's RLS query as written fails on Postgres: pg_policies has no relname or polname", async () => {
    const asWritten = `SELECT relname, polname FROM pg_policies WHERE schemaname='public'
      AND relname IN ('user_interests', 'intent_signals', 'marketplace_discovery_queue', 'learning_events', 'rate_limits') ORDER BY relname, polname;`;
    await expect(guide.sql(asWritten)).rejects.toThrow(/column "relname" does not exist/);
  });

  it('2.A RLS checks fail when a policy is dropped or row level security is disabled', async () => {
    const drop = 'DROP POLICY rate_limits_service ON public.rate_limits';
    const restore = "CREATE POLICY rate_limits_service ON public.rate_limits USING (current_setting('app.role', true) = 'service')";
    await whileBroken(guide, drop, restore, async () => {
      const result = await guide.check('smoke test / RLS policies for each table');
      expectStatus(result, 'fail');
      expect(result.detail).toBe('missing: RLS policy on public.rate_limits');
    });
    await whileBroken(guide, 'ALTER TABLE public.learning_events DISABLE ROW LEVEL SECURITY', 'ALTER TABLE public.learning_events ENABLE ROW LEVEL SECURITY', async () => {
      const result = await guide.check('smoke test / RLS policies for each table');
      expectStatus(result, 'fail');
      expect(result.detail).toContain('row level security is not enabled on the table');
    });
    await whileBroken(guide, 'DROP POLICY learning_events_owner ON public.learning_events; DROP POLICY learning_events_service ON public.learning_events',
      "CREATE POLICY learning_events_owner ON public.learning_events USING (user_id::text = current_setting('app.user_id', true)); CREATE POLICY learning_events_service ON public.learning_events USING (current_setting('app.role', true) = 'service')",
      async () => {
        expectStatus(await guide.check('operations / learning_events RLS policies'), 'fail');
      });
    await whileBroken(guide, 'DROP POLICY user_interests_owner ON public.user_interests; DROP POLICY user_interests_service ON public.user_interests; DROP POLICY intent_signals_owner ON public.intent_signals',
      "CREATE POLICY user_interests_owner ON public.user_interests USING (user_id::text = current_setting('app.user_id', true)); CREATE POLICY user_interests_service ON public.user_interests USING (current_setting('app.role', true) = 'service'); CREATE POLICY intent_signals_owner ON public.intent_signals USING (user_id::text = current_setting('app.user_id', true))",
      async () => {
        expectStatus(await guide.check('smoke test / RLS policies exist (multiple rows)'), 'fail');
      });
    expectStatus(await guide.check('smoke test / RLS policies exist (multiple rows)'), 'pass');
  });

  it('2.B/2.C the queue, DLQ, policy, SLO and kernel view checks (and the gaps and actions reads) error when what they read is missing', async () => {
    const relations: [string, string, string][] = [
      ['VIEW', 'vw_discovery_queue_health', 'smoke test / discovery queue health'],
      ['VIEW', 'vw_dead_letter_queue', 'smoke test / dead letter queue is empty'],
      ['VIEW', 'vw_events_queue_health', 'smoke test / events queue health'],
      ['VIEW', 'vw_policy_health', 'smoke test / policy health'],
      ['VIEW', 'vw_slo_burnrate', 'smoke test / SLO burn-rate'],
      ['VIEW', 'vw_kernel_slos', 'smoke test / kernel SLOs'],
      ['TABLE', 'marketplace_gaps', 'smoke test / marketplace gaps'],
      ['TABLE', 'ai_action_ledger', 'operations / recent actions'],
    ];
    for (const [kind, relation, check] of relations) {
      await whileBroken(guide, `ALTER ${kind} public.${relation} RENAME TO ${relation}_moved`, `ALTER ${kind} public.${relation}_moved RENAME TO ${relation}`, async () => {
        const result = await guide.check(check);
        expectStatus(result, 'error');
        expect(result.detail).toContain(`relation "public.${relation}" does not exist`);
      });
      expectStatus(await guide.check(check), 'pass');
    }
  });

  it('2.B dead letter queue is empty fails with an item in error', async () => {
    await whileBroken(guide, "INSERT INTO public.marketplace_discovery_queue (interest_id, status) VALUES ('44444444-4444-4444-4444-444444444444', 'error')",
      "DELETE FROM public.marketplace_discovery_queue WHERE status = 'error'", async () => {
        expectStatus(await guide.check('smoke test / dead letter queue is empty'), 'fail');
      });
  });

  it('2.D each seed count fails when its table does not hold 6', async () => {
    const extra = '77777777-7777-7777-7777-777777777777';
    await guide.sql(`INSERT INTO public.interest_catalog (id, name) VALUES ('${extra}', 'extra interest')`);
    expectStatus(await guide.check('smoke test / interests seeded'), 'fail');
    await guide.sql(`INSERT INTO public.marketplace_categories (id, name) VALUES ('${extra}', 'extra gear')`);
    expectStatus(await guide.check('smoke test / categories seeded'), 'fail');
    await guide.sql(`INSERT INTO public.marketplace_interest_map (interest_id, category_id) VALUES ('${extra}', '${extra}')`);
    expectStatus(await guide.check('smoke test / mappings seeded'), 'fail');
    expectStatus(await guide.check('operations / categories mapped'), 'fail');
    await guide.sql(`INSERT INTO public.marketplace_candidates (id, category_id, title) VALUES ('${extra}', '${extra}', 'extra kit')`);
    expectStatus(await guide.check('smoke test / candidates seeded'), 'fail');
    await guide.sql(`DELETE FROM public.marketplace_candidates WHERE id = '${extra}'; DELETE FROM public.marketplace_interest_map WHERE interest_id = '${extra}';
                     DELETE FROM public.marketplace_categories WHERE id = '${extra}'; DELETE FROM public.interest_catalog WHERE id = '${extra}'`);
    for (const name of ['interests', 'categories', 'mappings', 'candidates']) expectStatus(await guide.check(`smoke test / ${name} seeded`), 'pass');
    // And a missing candidate: 5 is not 6 either.
    await guide.sql("CREATE TEMP TABLE saved_candidate AS SELECT * FROM public.marketplace_candidates WHERE id = '66666666-6666-6666-6666-666666666666'");
    await whileBroken(guide, "DELETE FROM public.marketplace_candidates WHERE id = '66666666-6666-6666-6666-666666666666'", 'INSERT INTO public.marketplace_candidates SELECT * FROM saved_candidate', async () => {
      expectStatus(await guide.check('smoke test / candidates seeded'), 'fail');
    });
  });

  it("2.E/2.G the user journey's checks fail when its rows are gone, and re-running the journey brings them back", async () => {
    await guide.sql(`DELETE FROM public.marketplace_discovery_queue WHERE user_id = '${USER}'; DELETE FROM public.user_interests WHERE user_id = '${USER}'; DELETE FROM auth.users WHERE id = '${USER}'`);
    for (const name of ['smoke test / test user exists', 'smoke test / discovery queue populated', 'smoke test / suggestions returned (at least a few)', 'operations / test user has interests']) {
      expectStatus(await guide.check(name), 'fail');
    }
    await guide.rerunMigration('0008_smoke_user.sql');
    for (const name of ['smoke test / test user exists', 'smoke test / discovery queue populated', 'smoke test / suggestions returned (at least a few)', 'operations / test user has interests']) {
      expectStatus(await guide.check(name), 'pass');
    }
    const suggestions = await guide.sql<{ title: string }>(`SELECT * FROM public.marketplace_suggestions_for_user('${USER}'::uuid, 12)`);
    expect(suggestions.map((s) => s.title)).toEqual(['Starter kit: hiking gear', 'Starter kit: cooking gear', 'Starter kit: photography gear']);
  });

  it('3 safe mode is checked after the switch flips: a decision that explores fails it, an exploit-only one passes', async () => {
    expectStatus(await guide.check('operations / safe mode means no exploration'), 'skipped');
    await guide.kill('global.safe_mode', { enabled: true }, 'guide test: SLOs spiked');
    try {
      expectStatus(await guide.check('operations / safe mode means no exploration'), 'pass');
      await guide.sql(`INSERT INTO public.learning_events (user_id, surface, candidate_id, policy, p_exp, score, explored, reward) VALUES ('${USER}', 'feed', 'post_abc', 'epsilon_greedy_v1', 0, 0.42, false, 0.6)`);
      expectStatus(await guide.check('operations / safe mode means no exploration'), 'pass');
      await guide.sql(`INSERT INTO public.learning_events (user_id, surface, candidate_id, policy, p_exp, score, explored, reward) VALUES ('${USER}', 'feed', 'post_def', 'epsilon_greedy_v1', 0.08, 0.42, true, 0.6)`);
      const result = await guide.check('operations / safe mode means no exploration');
      expectStatus(result, 'fail');
      expect(result.detail).toBe('expected value 0; got value 1');
    } finally {
      await guide.sql('DELETE FROM public.learning_events');
      await guide.kill('global.safe_mode', { enabled: false }, 'guide test: verified');
    }
  });

  it('8 troubleshooting checks: a stuck lease, a missing learning flag, no candidates each fail', async () => {
    await whileBroken(guide, "INSERT INTO public.marketplace_discovery_queue (interest_id, status, lease_token, lease_expires_at) VALUES ('55555555-5555-5555-5555-555555555555', 'processing', gen_random_uuid(), now() - interval '1 minute')",
      "DELETE FROM public.marketplace_discovery_queue WHERE status = 'processing'", async () => {
        const result = await guide.check('operations / no stuck leases');
        expectStatus(result, 'fail');
        expect(result.detail).toMatch(/^expected no rows; got 1 row\(s\)/);
      });
    await guide.sql("CREATE TEMP TABLE saved_learning AS SELECT * FROM public.feature_flags WHERE key = 'learning.enabled'");
    await whileBroken(guide, "DELETE FROM public.feature_flags WHERE key = 'learning.enabled'", 'INSERT INTO public.feature_flags SELECT * FROM saved_learning', async () => {
      expectStatus(await guide.check('operations / learning flag present'), 'fail');
    });
    await guide.sql('CREATE TEMP TABLE saved_candidates AS SELECT * FROM public.marketplace_candidates');
    await whileBroken(guide, 'DELETE FROM public.marketplace_candidates', 'INSERT INTO public.marketplace_candidates SELECT * FROM saved_candidates', async () => {
      expectStatus(await guide.check('operations / candidates exist'), 'fail');
    });
    expectStatus(await guide.check('operations / candidates exist'), 'pass');
  });

  it('7 the GC check fails with a learning event older than 90 days, and gc_learning_events() fixes it', async () => {
    await guide.sql(`INSERT INTO public.learning_events (user_id, surface, candidate_id, policy, p_exp, score, explored, ts) VALUES ('${USER}', 'feed', 'old', 'epsilon_greedy_v1', 0.08, 0.1, false, now() - interval '120 days')`);
    expectStatus(await guide.check('operations / learning events GC keeps up'), 'fail');
    expect(await guide.sql('SELECT public.gc_learning_events() AS removed')).toEqual([{ removed: 1 }]);
    expectStatus(await guide.check('operations / learning events GC keeps up'), 'pass');
  });

  it('1.D the intent signals GC check fails with a signal older than 30 days, and gc_intent_signals() fixes it; a missing GC function fails', async () => {
    expectStatus(await guide.check('operations / GC functions installed'), 'pass');
    expectStatus(await guide.check('operations / intent signals GC keeps up'), 'pass');
    await guide.sql(`INSERT INTO public.intent_signals (user_id, signal, ts) VALUES ('${USER}', 'viewed', now() - interval '45 days'), ('${USER}', 'viewed', now() - interval '29 days')`);
    const stale = await guide.check('operations / intent signals GC keeps up');
    expectStatus(stale, 'fail');
    expect(stale.detail).toMatch(/^expected value 0; got value "?1"?$/);
    // The 3 AM job's call: it removes what is past 30 days and keeps the rest.
    expect(await guide.sql('SELECT public.gc_intent_signals() AS removed')).toEqual([{ removed: 1 }]);
    expectStatus(await guide.check('operations / intent signals GC keeps up'), 'pass');
    expect(await guide.sql<{ n: number }>('SELECT count(*)::int AS n FROM public.intent_signals')).toEqual([{ n: 1 }]);
    await guide.sql('DELETE FROM public.intent_signals');
    // The job has nothing to call without the function, though no old signal shows it yet.
    await guide.sql('DROP FUNCTION public.gc_intent_signals()');
    try {
      expectStatus(await guide.check('operations / intent signals GC keeps up'), 'pass');
      const missing = await guide.check('operations / GC functions installed');
      expectStatus(missing, 'fail');
      expect(missing.detail).toContain('gc_intent_signals');
    } finally {
      await guide.rerunMigration('0007_discovery_functions.sql');
    }
    expectStatus(await guide.check('operations / GC functions installed'), 'pass');
  });

  it('4 burn rate above 2.0 trips safe mode by break-glass; at or below it is healthy; no traffic is unknown', async () => {
    const measured = JSON.parse(firstHealth.stdout) as { results: { name: string; status: string }[] };
    expect(measured.results.find((r) => r.name === 'SLO burn rate')?.status).toBe('unknown');
    const traffic = (errors: number) =>
      guide.sql(`DELETE FROM public.request_log; INSERT INTO public.request_log (path, status, latency_ms) SELECT 'feed', CASE WHEN g <= ${errors} THEN 503 ELSE 200 END, 40 FROM generate_series(1, 1000) g`);
    await traffic(1);
    expect(await guide.monitor('SLO burn rate', { act: true })).toMatchObject({ status: 'healthy', value: 1 });
    // "> 2.0": exactly 2.0 is no breach.
    await traffic(2);
    expect(await guide.monitor('SLO burn rate', { act: true })).toMatchObject({ status: 'healthy', value: 2 });
    await traffic(3);
    const breach = await guide.monitor('SLO burn rate', { act: true });
    expect(breach).toMatchObject({ status: 'breach', value: 3, action: { kind: 'kill_switch', flag: 'global.safe_mode', outcome: 'tripped' } });
    expect(await guide.sql("SELECT value FROM public.feature_flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);
    const [ledger] = await guide.sql<{ kind: string; reason: string }>('SELECT kind, reason FROM rollout.ledger ORDER BY id DESC LIMIT 1');
    expect(ledger).toEqual({ kind: 'break-glass', reason: 'monitor "SLO burn rate" breached: 3 is above 2' });
    await guide.sql('DELETE FROM public.request_log');
    await guide.kill('global.safe_mode', { enabled: false }, 'guide test: burn rate back to normal');
  });

  it('4 discovery queue p95 age above 300 s breaches', async () => {
    await guide.sql("UPDATE public.marketplace_discovery_queue SET enqueued_at = now() WHERE status = 'queued'");
    expect(await guide.monitor('discovery queue p95 age')).toMatchObject({ status: 'healthy' });
    await whileBroken(guide, "INSERT INTO public.marketplace_discovery_queue (interest_id, status, enqueued_at) VALUES ('44444444-4444-4444-4444-444444444444', 'queued', now() - interval '20 minutes')",
      "DELETE FROM public.marketplace_discovery_queue WHERE interest_id = '44444444-4444-4444-4444-444444444444'", async () => {
        const result = await guide.monitor('discovery queue p95 age');
        expect(result.status).toBe('breach');
        expect(result.value).toBeGreaterThan(300);
        // "Scale worker concurrency": the breach dispatches the team's workflow (not sent here: no --act).
        expect(result.actions).toContainEqual(expect.objectContaining({ kind: 'dispatch', target: expect.stringContaining('repository_dispatch scale-worker-concurrency') as unknown }));
      });
  });

  it('4 auth.login p95 above 600 ms breaches, other paths do not count', async () => {
    const logins = (ms: number) =>
      guide.sql(`DELETE FROM public.request_log; INSERT INTO public.request_log (path, status, latency_ms) SELECT 'auth.login', 200, ${ms} FROM generate_series(1, 50);
                 INSERT INTO public.request_log (path, status, latency_ms) SELECT 'feed', 200, 5000 FROM generate_series(1, 50)`);
    await logins(120);
    expect(await guide.monitor('auth.login p95')).toMatchObject({ status: 'healthy', value: 120 });
    await logins(900);
    const slow = await guide.monitor('auth.login p95');
    expect(slow).toMatchObject({ status: 'breach', value: 900 });
    // "Check DB connections": dispatched to the team's workflow.
    expect(slow.actions).toContainEqual(expect.objectContaining({ kind: 'dispatch', target: expect.stringContaining('repository_dispatch check-db-connections') as unknown }));
    await guide.sql('DELETE FROM public.request_log');
    expect(await guide.monitor('auth.login p95')).toMatchObject({ status: 'unknown' });
  });

  it('4 exploration rate outside ε ± 50 % breaches, judged only with 100 decisions or more', async () => {
    const decisions = (count: number, explored: number) =>
      guide.sql(`DELETE FROM public.learning_events; INSERT INTO public.learning_events (user_id, surface, candidate_id, policy, p_exp, score, explored)
                 SELECT '${USER}', 'feed', 'c' || g, 'epsilon_greedy_v1', 0.08, 0.5, g <= ${explored} FROM generate_series(1, ${count}) g`);
    await decisions(50, 25);
    expect(await guide.monitor('exploration rate vs epsilon')).toMatchObject({ status: 'unknown' });
    await decisions(200, 16); // 8 % explored, ε = 0.08
    expect(await guide.monitor('exploration rate vs epsilon')).toMatchObject({ status: 'healthy' });
    await decisions(200, 40); // 20 %: 150 % away from ε
    const breach = await guide.monitor('exploration rate vs epsilon');
    expect(breach.status).toBe('breach');
    expect(breach.value).toBeCloseTo(1.5, 5);
    // "Review bandit config": dispatched to the team's workflow.
    expect(breach.actions).toContainEqual(expect.objectContaining({ kind: 'dispatch', target: expect.stringContaining('repository_dispatch review-bandit-config') as unknown }));
    await guide.sql('DELETE FROM public.learning_events');
  });

  it('4 a 5xx error rate above 1 % breaches', async () => {
    const answers = (errors: number) =>
      guide.sql(`DELETE FROM public.request_log; INSERT INTO public.request_log (path, status, latency_ms) SELECT 'feed', CASE WHEN g <= ${errors} THEN 500 ELSE 200 END, 40 FROM generate_series(1, 200) g`);
    await answers(2);
    expect(await guide.monitor('5xx error rate')).toMatchObject({ status: 'healthy', value: 0.01 });
    await answers(3);
    const failing = await guide.monitor('5xx error rate');
    expect(failing).toMatchObject({ status: 'breach', value: 0.015 });
    // "Rollback deployment": dispatched to the team's workflow.
    expect(failing.actions).toContainEqual(expect.objectContaining({ kind: 'dispatch', target: expect.stringContaining('repository_dispatch rollback-deployment') as unknown }));
    await guide.sql('DELETE FROM public.request_log');
  });

  it('2.H the learning heartbeat: no events breach, the guide\'s test event makes policy health one row of non-null values', async () => {
    expect(await guide.monitor('learning events populating')).toMatchObject({ status: 'breach', value: 0 });
    // The guide's INSERT as written (psql's :'TEST_USER' is the smoke-test user).
    await guide.sql(`INSERT INTO public.learning_events(
        user_id, surface, candidate_id, policy, p_exp, score, explored, reward, context
      )
      VALUES(
        '${USER}'::uuid,
        'feed',
        'post_abc',
        'epsilon_greedy_v1',
        0.08,
        0.42,
        false,
        0.6,
        '{}'::jsonb
      );`);
    expect(await guide.monitor('learning events populating')).toMatchObject({ status: 'healthy', value: 1 });
    const health = await guide.sql('SELECT * FROM public.vw_policy_health');
    expect(health).toHaveLength(1);
    expect(Object.entries(health[0]).filter(([, v]) => v === null)).toEqual([]);
    await guide.sql('DELETE FROM public.learning_events');
  });

  it('6 "apply hotfix migration": a new migration file applies on the next apply, and the checks still pass', { timeout: 300_000 }, async () => {
    await guide.close();
    await writeFile(join(repo.root, 'migrations', '0009_hotfix_queue_index.sql'), '-- Hotfix: the stuck-lease query (section 8) by index.\nCREATE INDEX IF NOT EXISTS marketplace_discovery_queue_leases ON public.marketplace_discovery_queue (status, lease_expires_at);\n');
    const plan = await repo.run(['plan', '--env', 'staging']);
    expect(plan.stdout).toContain('0009_hotfix_queue_index.sql');
    const applied = await repo.run(['apply', '--env', 'staging']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('migrated migrations/0009_hotfix_queue_index.sql');
    expect(applied.stdout).toMatch(/check\(s\) on staging: \d+ passed, 1 skipped/);
    guide = await openGuide(repo, 'staging');
  });
});
