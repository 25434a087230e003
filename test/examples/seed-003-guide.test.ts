/**
 * Seed 003 (Stream 5: movement seeding and scoring), requirement by requirement: the guide's
 * verification SQL runs as checks that pass on the seeded movements and on real plan jobs,
 * and fail when a movement, an audit row or a scoring payload is wrong; its alerts are
 * monitors; its rollbacks are forward migrations and stage moves. The README's requirement
 * table (examples/seed-003-stream5-scoring/README.md) names these tests.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAccess, resolveChecks, runChecks } from '../../actions/engine/checks/index.ts';
import { databaseTargets } from '../support/databases.ts';
import { exampleRepo, later, setRollout, STAND_IN_ENV, type CliRun, type ExampleRepo } from './support.ts';
import { expectStatus, namesWith, openGuide, whileBroken, whileFaulty, type OpenGuide } from './guide-support.ts';

const S = 'stream 5';
const MINUTE = 60_000;

/** Plan jobs as the planning engine writes them: completed, each with its scoring payload. */
const PLAN_JOBS = `
  INSERT INTO public.plan_jobs (job_id, user_id, status, result_data)
  SELECT 'job-' || g, 'user-' || g, 'completed',
         jsonb_build_object('scoring', jsonb_build_object('version', 'fixed-weight-v1', 'total', 0.5 + g / 100.0,
                            'weights', jsonb_build_object('strength', 0.5, 'recovery', 0.3, 'variety', 0.2)))
  FROM generate_series(1, 12) g`;

describe.each(databaseTargets())('seed 003 guide on $name', (target) => {
  let repo: ExampleRepo;
  let guide: OpenGuide | undefined;
  let firstApply: CliRun;
  const open = (): OpenGuide => {
    if (!guide) throw new Error('the guide is closed');
    return guide;
  };
  beforeAll(async () => {
    repo = await exampleRepo('seed-003-stream5-scoring', target);
    firstApply = await repo.run(['apply', '--env', 'staging']);
    guide = await openGuide(repo, 'staging');
  }, 300_000);
  afterAll(async () => {
    await guide?.close();
    await repo?.dispose();
  });

  it('applies the guide: the four tables, 8 published movements with their audit rows, every check passes or waits for scoring', async () => {
    expect(firstApply.stderr).toBe('');
    expect(firstApply.code).toBe(0);
    const report = await open().verify();
    expect(namesWith(report, 'fail').concat(namesWith(report, 'error'))).toEqual([]);
    // Scoring is off: the check of scored plans waits for it ("if flag enabled").
    expect(namesWith(report, 'skipped')).toEqual([`${S} / plans with scoring`]);
    expect(report.results).toHaveLength(17);
    const library = await open().sql<{ name: string; modalities: string[] }>('SELECT name, modalities FROM public.movement_library ORDER BY name');
    expect(library).toHaveLength(8);
    expect(library.every((m) => m.modalities.length > 0)).toBe(true);
  });

  it('phase 2 re-running the seed imports nothing twice: still 8 movements, 16 audit rows, 8 staged imports', async () => {
    for (const file of ['0002_seed_movements.sql', '0004_movement_modalities.sql']) await open().rerunMigration(file);
    expect(await open().sql('SELECT (SELECT count(*) FROM public.movement_library)::int AS movements, (SELECT count(*) FROM public.movement_audit_log)::int AS audit, (SELECT count(*) FROM public.movement_staging)::int AS staged')).toEqual([
      { movements: 8, audit: 16, staged: 8 },
    ]);
  });

  it('phase 1 "Verify connectivity": the check errors when the database cannot be reached', async () => {
    const [connectivity] = resolveChecks(repo.root, open().env).filter((c) => c.name === `${S} / connectivity`);
    const unreachable = await runChecks('staging', [connectivity], {
      root: repo.root,
      processEnv: repo.env,
      flags: new Map(),
      access: {
        ...checkAccess(open().env, open().db),
        connect: async () => {
        const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/planning', connectionTimeoutMillis: 2_000 });
          await client.connect();
          return client;
        },
      },
    });
    expectStatus(unreachable.results[0], 'error');
    expect(unreachable.results[0].detail).toContain('ECONNREFUSED');
    expectStatus(await open().check(`${S} / connectivity`), 'pass');
  });

  it('phase 1 the four tables are checked: a missing one fails', async () => {
    await whileBroken(open(), 'ALTER TABLE public.plan_jobs RENAME TO plan_jobs_moved', 'ALTER TABLE public.plan_jobs_moved RENAME TO plan_jobs', async () => {
      const result = await open().check(`${S} / tables exist`);
      expectStatus(result, 'fail');
      expect(result.detail).toBe('missing: table public.plan_jobs');
    });
  });

  it('phase 2/4 a missing movement fails the count, library, published and audit checks', async () => {
    const g = open();
    await g.sql("CREATE TEMP TABLE saved_movement AS SELECT * FROM public.movement_library WHERE movement_id = 'mv-plank'; CREATE TEMP TABLE saved_audit AS SELECT movement_id, action, at FROM public.movement_audit_log WHERE movement_id = 'mv-plank'");
    await whileBroken(g, "DELETE FROM public.movement_audit_log WHERE movement_id = 'mv-plank'; DELETE FROM public.movement_library WHERE movement_id = 'mv-plank'",
      'INSERT INTO public.movement_library SELECT * FROM saved_movement; INSERT INTO public.movement_audit_log (movement_id, action, at) SELECT * FROM saved_audit', async () => {
        for (const name of ['movement count (expected 8)', 'movement library', 'audit log has entries', 'exactly 8 published movements', 'audit counts (imported = 8, published = 8)', 'audit entries match imports and publishes']) {
          expectStatus(await g.check(`${S} / ${name}`), 'fail');
        }
        expect(await g.monitor('movement count')).toMatchObject({ status: 'breach', value: 7 });
      });
    expect(namesWith(await g.verify(), 'fail')).toEqual([]);
  });

  it('phase 4 no duplicate movements fails on a duplicate name (with the unique constraint gone)', async () => {
    const g = open();
    await whileBroken(g, "ALTER TABLE public.movement_library DROP CONSTRAINT movement_library_name_key; INSERT INTO public.movement_library (movement_id, name, category) VALUES ('mv-plank-2', 'Plank', 'core')",
      "DELETE FROM public.movement_library WHERE movement_id = 'mv-plank-2'; ALTER TABLE public.movement_library ADD CONSTRAINT movement_library_name_key UNIQUE (name)", async () => {
        const result = await g.check(`${S} / no duplicate movements`);
        expectStatus(result, 'fail');
        expect(result.detail).toContain('Plank');
      });
  });

  it('phase 4 a movement that is not published fails the status check', async () => {
    await whileBroken(open(), "UPDATE public.movement_library SET status = 'draft' WHERE movement_id = 'mv-row'", "UPDATE public.movement_library SET status = 'published' WHERE movement_id = 'mv-row'", async () => {
      const result = await open().check(`${S} / movement counts by status (published = 8)`);
      expectStatus(result, 'fail');
      expect(result.detail).toContain('expected 1 row(s)');
      expectStatus(await open().check(`${S} / audit entries match imports and publishes`), 'fail');
    });
  });

  it('phase 4 the audit checks fail when a publish is not recorded or an import failed', async () => {
    const g = open();
    await g.sql("CREATE TEMP TABLE saved_publish AS SELECT movement_id, action, at FROM public.movement_audit_log WHERE movement_id = 'mv-deadlift' AND action = 'published'");
    await whileBroken(g, "DELETE FROM public.movement_audit_log WHERE movement_id = 'mv-deadlift' AND action = 'published'", 'INSERT INTO public.movement_audit_log (movement_id, action, at) SELECT * FROM saved_publish', async () => {
      expectStatus(await g.check(`${S} / audit counts (imported = 8, published = 8)`), 'fail');
      expectStatus(await g.check(`${S} / audit log has entries`), 'fail');
      expectStatus(await g.check(`${S} / audit entries match imports and publishes`), 'fail');
    });
    // "Check audit log integrity": imported and published, and no other action.
    await whileBroken(g, "INSERT INTO public.movement_audit_log (movement_id, action) VALUES ('mv-row', 'archived')", "DELETE FROM public.movement_audit_log WHERE action = 'archived'", async () => {
      const integrity = await g.check(`${S} / audit log integrity`);
      expectStatus(integrity, 'fail');
      expect(integrity.detail).toContain('expected 2 row(s)');
    });
    expect(await g.monitor('import failures')).toMatchObject({ status: 'healthy', value: 0 });
    await whileBroken(g, "INSERT INTO public.movement_staging (movement_id, payload, status, error) VALUES ('mv-snatch', '{}', 'failed', 'missing category')", "DELETE FROM public.movement_staging WHERE status = 'failed'", async () => {
      expect(await g.monitor('import failures')).toMatchObject({ status: 'breach', value: 1 });
    });
  });

  it('phase 3 the job result check wants scoring in the API answer, with the bearer token; it fails on a 500 or a wrong token', async () => {
    const result = await open().check(`${S} / job result includes scoring`);
    expectStatus(result, 'pass');
    expect(JSON.stringify(result)).not.toContain(STAND_IN_ENV.STAGING_TOKEN);
    await whileFaulty(repo, '/api/plans/jobs/smoke-test', 500, async () => {
      expectStatus(await open().check(`${S} / job result includes scoring`), 'fail');
    });
    const token = repo.env.STAGING_TOKEN;
    repo.env.STAGING_TOKEN = 'expired';
    try {
      const unauthorized = await open().check(`${S} / job result includes scoring`);
      expectStatus(unauthorized, 'fail');
      expect(unauthorized.detail).toContain('got HTTP 401');
    } finally {
      repo.env.STAGING_TOKEN = token;
    }
  });

  it('phase 3 scoring reaches full in 5 minutes (off → dark → canary 100% → full); the scoring checks wait until every plan is served scoring', { timeout: 300_000 }, async () => {
    // Plans the planning engine generated before the move: the exit criterion's baseline.
    await open().sql(PLAN_JOBS);
    await guide?.close();
    guide = undefined;
    const move = (to: Parameters<typeof setRollout>[2]) => repo.edit('staging', (text) => setRollout(text, 'feature.v1_planning_scoring', to));
    // The scoring's exit criterion compares plan errors with before the move: health measures both sides.
    const measured = async () => JSON.parse((await repo.run(['health', '--env', 'staging', '--format', 'json'])).stdout) as { results: { name: string; status: string }[] };
    const rise = (report: { results: { name: string; status: string }[] }) => report.results.find((r) => r.name === 'rise in plan errors since the move')?.status;
    await measured();
    await move({ stage: 'dark' });
    const dark = await repo.run(['apply', '--env', 'staging']);
    expect(dark.code).toBe(0);
    // Some plans are scored, some not: neither "every plan scored" nor "no plan scored" holds, so both wait.
    expect(dark.stdout).toMatch(/17 check\(s\) on staging: 15 passed, 2 skipped/);
    expect(rise(await measured())).toBe('healthy');
    await move({ stage: 'canary', percent: 100 });
    const early = await repo.run(['apply', '--env', 'staging'], { now: later(2 * MINUTE) });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/of 5 min soaked/);
    const canary = await repo.run(['apply', '--env', 'staging'], { now: later(5 * MINUTE + 30_000) });
    expect(canary.code).toBe(0);
    expect(canary.stdout).toMatch(/17 check\(s\) on staging: 15 passed, 2 skipped/);
    await move({ stage: 'full' });
    const full = await repo.run(['apply', '--env', 'staging'], { now: later(5 * MINUTE + 40_000) });
    expect(full.code).toBe(0);
    // Every plan is served scoring now: the scored-plans check runs, the no-scoring one waits.
    expect(full.stdout).toMatch(/17 check\(s\) on staging: 16 passed, 1 skipped/);
    const ledger = await repo.query<{ move: string }>('staging', "SELECT coalesce(old_stage, '—') || '→' || new_stage AS move FROM rollout.ledger_changes WHERE key = 'feature.v1_planning_scoring' ORDER BY ledger_id");
    expect(ledger.map((r) => r.move)).toEqual(['—→off', 'off→dark', 'dark→canary', 'canary→full']);
    guide = await openGuide(repo, 'staging');
  });

  it('phase 4 scoring validation passes on real plan jobs; a total outside [0, 1], another version, or weights not summing to 1 fail', async () => {
    const g = open();
    // At full: every plan is served scoring, so the guide's "has_scoring = true (if flag enabled)" holds for each.
    const unscored = await g.check(`${S} / new plans do not include scoring`);
    expectStatus(unscored, 'skipped');
    expect(unscored.detail).toContain('live: at full');
    const scoring = ['plans with scoring', 'scoring payloads satisfy the contract', 'scoring version is fixed-weight-v1', 'scoring weights sum to 1.0'];
    for (const name of scoring) expectStatus(await g.check(`${S} / ${name}`), 'pass');
    await whileBroken(g, "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,total}', '1.2') WHERE job_id = 'job-3'",
      "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,total}', '0.53') WHERE job_id = 'job-3'", async () => {
        const rows = await g.check(`${S} / plans with scoring`);
        expectStatus(rows, 'fail');
        expect(rows.violations?.[0]).toMatchObject({ key: 'job-3' });
        expect(rows.detail).toContain('/total_score must be <= 1');
        const payloads = await g.check(`${S} / scoring payloads satisfy the contract`);
        expectStatus(payloads, 'fail');
        expect(payloads.detail).toContain('/total must be <= 1');
      });
    await whileBroken(g, "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,version}', '\"fixed-weight-v2\"') WHERE job_id = 'job-4'",
      "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,version}', '\"fixed-weight-v1\"') WHERE job_id = 'job-4'", async () => {
        expectStatus(await g.check(`${S} / scoring version is fixed-weight-v1`), 'fail');
        expectStatus(await g.check(`${S} / plans with scoring`), 'fail');
      });
    await whileBroken(g, "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,weights,variety}', '0.3') WHERE job_id = 'job-5'",
      "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,weights,variety}', '0.2') WHERE job_id = 'job-5'", async () => {
        const result = await g.check(`${S} / scoring weights sum to 1.0`);
        expectStatus(result, 'fail');
        expect(result.detail).toContain('job-5');
      });
    // A payload missing a required field ("Missing fields").
    await whileBroken(g, "UPDATE public.plan_jobs SET result_data = result_data #- '{scoring,total}' WHERE job_id = 'job-6'",
      "UPDATE public.plan_jobs SET result_data = jsonb_set(result_data, '{scoring,total}', '0.56') WHERE job_id = 'job-6'", async () => {
        const payloads = await g.check(`${S} / scoring payloads satisfy the contract`);
        expectStatus(payloads, 'fail');
        expect(payloads.violations?.[0]).toMatchObject({ key: 'job-6' });
        expect(payloads.detail).toContain("must have required property 'total'");
      });
    // A completed plan without scoring while the flag is on.
    await whileBroken(g, "INSERT INTO public.plan_jobs (job_id, user_id, status, result_data) VALUES ('job-unscored', 'u', 'completed', '{}')", "DELETE FROM public.plan_jobs WHERE job_id = 'job-unscored'", async () => {
      expectStatus(await g.check(`${S} / plans with scoring`), 'fail');
    });
    for (const name of scoring) expectStatus(await g.check(`${S} / ${name}`), 'pass');
  });

  it('alerts: scoring errors, plans without scoring and plan generation errors breach their thresholds', async () => {
    const g = open();
    expect(await g.monitor('plans with scoring')).toMatchObject({ status: 'healthy', value: 1 });
    expect(await g.monitor('scoring calculation errors')).toMatchObject({ status: 'healthy', value: 0 });
    expect(await g.monitor('plan generation errors')).toMatchObject({ status: 'healthy', value: 0 });
    await g.sql(`INSERT INTO public.plan_jobs (job_id, user_id, status, result_data, scoring_error) VALUES ('job-noscore', 'u', 'completed', '{}', 'division by zero in recovery component');
                 INSERT INTO public.plan_jobs (job_id, user_id, status) VALUES ('job-failed', 'u', 'failed')`);
    expect(await g.monitor('scoring calculation errors')).toMatchObject({ status: 'breach', value: 1 });
    const coverage = await g.monitor('plans with scoring');
    expect(coverage.status).toBe('breach');
    expect(coverage.value).toBeCloseTo(12 / 13, 6);
    const errors = await g.monitor('plan generation errors');
    expect(errors.status).toBe('breach');
    expect(errors.value).toBeCloseTo(1 / 14, 6);
    await g.sql("DELETE FROM public.plan_jobs WHERE job_id IN ('job-noscore', 'job-failed')");
  });

  it('post-deployment "within 1 hour: 10+ test plans": a watch after full; fewer than 10 in the first hour moves scoring back a rung by itself', { timeout: 300_000 }, async () => {
    const g = open();
    const WATCH = 'test plans in the first hour at full';
    // Within the hour nothing is judged yet.
    expect(await g.monitor(WATCH)).toMatchObject({ status: 'healthy' });
    // The database's clock cannot be moved: the move to full is set an hour back instead, and the
    // planning engine's plans of that hour are written half an hour after it.
    await g.sql("UPDATE rollout.flag_rollouts SET stage_since = now() - interval '61 minutes' WHERE key = 'feature.v1_planning_scoring'");
    // The plans of the earlier phases belong before that hour.
    await g.sql("UPDATE public.plan_jobs SET created_at = now() - interval '2 hours' WHERE job_id LIKE 'job-%'");
    await g.sql(`INSERT INTO public.plan_jobs (job_id, user_id, status, result_data, created_at)
                 SELECT 'hour-' || g, 'user-' || g, 'completed', '{"scoring": {"version": "fixed-weight-v1", "total": 0.7}}', now() - interval '31 minutes'
                 FROM generate_series(1, 10) g`);
    expect(await g.monitor(WATCH)).toMatchObject({ status: 'healthy', value: 10 });
    await g.sql("UPDATE public.plan_jobs SET status = 'failed' WHERE job_id = 'hour-1'");
    const breach = await g.monitor(WATCH, { act: true });
    expect(breach).toMatchObject({ status: 'breach', value: 9 });
    expect(await g.sql("SELECT stage, percent::int AS percent, recorded_kind FROM rollout.flag_rollouts WHERE key = 'feature.v1_planning_scoring'")).toEqual([
      { stage: 'canary', percent: 100, recorded_kind: 'auto-rollback' },
    ]);
    await g.sql("DELETE FROM public.plan_jobs WHERE job_id LIKE 'hour-%'");
    // Git records where the rollback left it, then moves on to full again.
    await guide?.close();
    guide = undefined;
    for (const to of [{ stage: 'canary', percent: 100 }, { stage: 'full' }] as const) {
      await repo.edit('staging', (text) => setRollout(text, 'feature.v1_planning_scoring', to));
      const applied = await repo.run(['apply', '--env', 'staging'], { now: later(5 * MINUTE + 50_000) });
      expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    }
    guide = await openGuide(repo, 'staging');
  });

  it('rollback: scoring back to off at once; new plans do not include scoring (has_scoring = false), and a scored one fails', { timeout: 300_000 }, async () => {
    await guide?.close();
    guide = undefined;
    await repo.edit('staging', (text) => setRollout(text, 'feature.v1_planning_scoring', { stage: 'off' }));
    const rollback = await repo.run(['apply', '--env', 'staging']);
    expect(rollback.code).toBe(0);
    // The plans scored before the rollback are not new: the check passes at once, and the scored-plans check waits.
    expect(rollback.stdout).toMatch(/17 check\(s\) on staging: 16 passed, 1 skipped/);
    const ledger = await repo.query<{ move: string }>('staging', "SELECT coalesce(old_stage, '—') || '→' || new_stage AS move FROM rollout.ledger_changes WHERE key = 'feature.v1_planning_scoring' ORDER BY ledger_id");
    // full→canary: the watch's auto-rollback; canary→canary: Git reconciling it; then full again, and off.
    expect(ledger.map((r) => r.move)).toEqual(['—→off', 'off→dark', 'dark→canary', 'canary→full', 'full→canary', 'canary→canary', 'canary→full', 'full→off']);
    guide = await openGuide(repo, 'staging');
    const g = open();
    const scored = await g.check(`${S} / plans with scoring`);
    expectStatus(scored, 'skipped');
    expect(scored.detail).toContain('live: at off');
    await g.sql("INSERT INTO public.plan_jobs (job_id, user_id, status, result_data) VALUES ('job-after-off', 'u', 'completed', '{}')");
    const fresh = await g.check(`${S} / new plans do not include scoring`);
    expectStatus(fresh, 'pass');
    expect(fresh.actual).toBe('1 row(s)');
    // "Plans with scoring: ~100% (when flag enabled)": with scoring off an unscored plan is no breach.
    expect(await g.monitor('plans with scoring')).toMatchObject({ status: 'healthy', detail: expect.stringContaining('empty: healthy') as unknown });
    // A plan the service still scores after the rollback (a restart missed).
    await whileBroken(g, "UPDATE public.plan_jobs SET result_data = '{\"scoring\": {\"version\": \"fixed-weight-v1\", \"total\": 0.6}}' WHERE job_id = 'job-after-off'", "DELETE FROM public.plan_jobs WHERE job_id = 'job-after-off'", async () => {
      const result = await g.check(`${S} / new plans do not include scoring`);
      expectStatus(result, 'fail');
      expect(result.detail).toContain('/has_scoring must be equal to constant');
    });
    await guide.close();
    guide = undefined;
  });

  it('rollback of the seeding as a forward migration: truncate and re-seed leaves 8 movements and 16 audit rows', { timeout: 300_000 }, async () => {
    await guide?.close();
    guide = undefined;
    // What a team commits instead of running TRUNCATE by hand: the guide's rollback, then the seed again.
    await copyFile(join(repo.root, 'rollbacks', 'reseed_movements.sql'), join(repo.root, 'migrations', '0005_reseed_movements.sql'));
    // Its seed is the migrations' seed, statement for statement.
    const rollback = await repo.read('rollbacks/reseed_movements.sql');
    for (const file of ['0002_seed_movements.sql', '0004_movement_modalities.sql']) {
      const statements = (await repo.read(`migrations/${file}`)).split('\n').filter((line) => !line.startsWith('--')).join('\n').trim();
      expect(rollback).toContain(statements);
    }
    const applied = await repo.run(['apply', '--env', 'staging']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('migrated migrations/0005_reseed_movements.sql');
    expect(applied.stdout).toMatch(/17 check\(s\) on staging: 16 passed, 1 skipped/);
    expect(await repo.query('staging', 'SELECT (SELECT count(*) FROM public.movement_library)::int AS movements, (SELECT count(*) FROM public.movement_audit_log)::int AS audit')).toEqual([
      { movements: 8, audit: 16 },
    ]);
  });
});
