/**
 * Seed 003 (Stream 5) with the real CLI: the 8 movements seeded once (no duplicates,
 * audit rows match), and the scoring flag typed by its payload contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import { readServing, servedValueInSql, unitIds } from './serving.ts';
import { exampleRepo, later, setRollout, setValue, type ExampleRepo } from './support.ts';

const FLAG = 'feature.v1_planning_scoring';
const VALUE = { version: 'fixed-weight-v1', total: 0.72, weights: { strength: 0.5, recovery: 0.3, variety: 0.2 } };
const OFF_VALUE = { version: 'none', total: 0 };
const USERS = unitIds(1_000);
const MINUTE = 60_000;

describe.each(databaseTargets())('examples/seed-003-stream5-scoring on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-003-stream5-scoring', target);
  });
  afterEach(() => repo.dispose());

  it('seeds 8 movements once and enables scoring; an invalid payload is refused by validate', { timeout: 300_000 }, async () => {
    const first = await repo.run(['apply', '--env', 'staging']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // On a server the database URL comes from the variable url_env names; apply never prints it.
    const url = repo.env.ROLLOUT_TEST_STAGING_URL;
    if (target.name === 'server') expect(url).toBeDefined();
    if (url) expect(first.stdout + first.stderr).not.toContain(url);
    const counts = async () =>
      (
        await repo.query<{ movements: number; duplicates: number; imported: number; published: number }>(
          'staging',
          `SELECT (SELECT count(*) FROM public.movement_library WHERE status = 'published')::int AS movements,
                  (SELECT count(*) FROM (SELECT name FROM public.movement_library GROUP BY name HAVING count(*) > 1) d)::int AS duplicates,
                  (SELECT count(*) FROM public.movement_audit_log WHERE action = 'imported')::int AS imported,
                  (SELECT count(*) FROM public.movement_audit_log WHERE action = 'published')::int AS published`,
        )
      )[0];
    expect(await counts()).toEqual({ movements: 8, duplicates: 0, imported: 8, published: 8 });

    // Phase 3: enable scoring (dark first: the default ladder goes one rung at a time).
    await repo.edit('staging', (text) => setRollout(text, 'feature.v1_planning_scoring', { stage: 'dark' }));
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    // At dark a plain read of the flag table is the off value; the definition holds the payload the rollout serves.
    const [flag] = await repo.query<{ value: { version: string; total: number } }>('staging', "SELECT value FROM public.feature_flags WHERE key = 'feature.v1_planning_scoring'");
    expect(flag.value).toEqual({ version: 'none', total: 0 });
    const [defined] = await repo.query<{ value: { version: string; total: number } }>('staging', "SELECT value FROM rollout.flag_definitions WHERE key = 'feature.v1_planning_scoring'");
    expect(defined.value).toMatchObject({ version: 'fixed-weight-v1', total: 0.72 });
    // Re-running converges: nothing to apply, still 8 movements.
    expect((await repo.run(['apply', '--env', 'staging'])).stdout).toContain('nothing to apply');
    expect(await counts()).toEqual({ movements: 8, duplicates: 0, imported: 8, published: 8 });

    // A payload outside the contract (total above 1, version not a string) never reaches the database.
    await repo.edit('staging', (text) => setValue(text, 'feature.v1_planning_scoring', { version: 1, total: 1.5 }));
    const invalid = await repo.run(['validate']);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout + invalid.stderr).toMatch(/environments\/staging\.yaml:\d+:\d+: error: .*total.* must be <= 1.*contract 'scoring-payload'/);
    expect(invalid.stdout + invalid.stderr).toMatch(/version must be a string/);
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(1);
  });
  it('phase 1 "Apply Prisma schema" on a database prisma db push already made: the migrations create nothing twice and seed the 8 movements', { timeout: 300_000 }, async () => {
    // The four tables as `npx prisma db push` leaves them: no rollout ledger, no migration history.
    for (const statement of [
      "CREATE TABLE public.movement_library (movement_id text PRIMARY KEY, name text NOT NULL UNIQUE, category text NOT NULL, status text NOT NULL DEFAULT 'published', modalities text[] NOT NULL DEFAULT '{}')",
      'CREATE TABLE public.movement_audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, movement_id text NOT NULL REFERENCES public.movement_library (movement_id), action text NOT NULL, at timestamptz NOT NULL DEFAULT now())',
      "CREATE TABLE public.movement_staging (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, movement_id text NOT NULL, payload jsonb NOT NULL, status text NOT NULL DEFAULT 'pending', error text, imported_at timestamptz NOT NULL DEFAULT now())",
      'CREATE TABLE public.plan_jobs (job_id text PRIMARY KEY, user_id text NOT NULL, status text NOT NULL, result_data jsonb, scoring_error text, created_at timestamptz NOT NULL DEFAULT now())',
    ]) await repo.query('staging', statement);
    const applied = await repo.run(['apply', '--env', 'staging']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    for (const file of ['0001_movement_library.sql', '0002_seed_movements.sql', '0003_stream5_tables.sql', '0004_movement_modalities.sql']) expect(applied.stdout).toContain(`migrated migrations/${file}`);
    expect(
      await repo.query('staging', "SELECT (SELECT count(*) FROM public.movement_library WHERE status = 'published')::int AS movements, (SELECT count(*) FROM public.movement_audit_log)::int AS audit, (SELECT count(*) FROM public.movement_staging)::int AS staged"),
    ).toEqual([{ movements: 8, audit: 16, staged: 8 }]);
  });
  it('what a planning request is served at each stage, and a rise in plan errors at dark (against before the move) rolls scoring back to off by itself', { timeout: 300_000 }, async () => {
    const move = async (to: Parameters<typeof setRollout>[2], now?: Date) => {
      await repo.edit('staging', (text) => setRollout(text, FLAG, to));
      const applied = await repo.run(['apply', '--env', 'staging'], now ? { now } : {});
      expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    };
    /** How many of 1,000 users get the scoring payload through the provider's evaluator, and what a plain read of the flag table says. */
    const served = async () => {
      const serving = await readServing(repo, 'staging');
      const on = serving.servedValue(FLAG, USERS);
      // rollout.evaluate, the SQL reader, serves the same users.
      expect(await servedValueInSql(repo, 'staging', FLAG, USERS)).toEqual(on);
      return { on: on.length, plain: serving.plain(FLAG) };
    };
    /** `rollout health`: what the criterion measured. */
    const rise = async () => {
      const run = await repo.run(['health', '--env', 'staging', '--format', 'json']);
      return (JSON.parse(run.stdout) as { results: { name: string; status: string; value?: number; detail: string }[] }).results.find((r) => r.name === 'rise in plan errors since the move')!;
    };
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    expect(await served()).toEqual({ on: 0, plain: OFF_VALUE });
    // The baseline, measured before the move: plans generated, none failed.
    await repo.query('staging', `INSERT INTO public.plan_jobs (job_id, user_id, status, result_data) SELECT 'job-' || g, 'u', 'completed', '{"scoring": {"version": "fixed-weight-v1", "total": 0.72}}' FROM generate_series(1, 10) g`);
    expect(await rise()).toMatchObject({ value: 0 });

    // dark: the test plan is generated and checked; no user is scored yet.
    await move({ stage: 'dark' });
    expect(await served()).toEqual({ on: 0, plain: OFF_VALUE });
    expect(await rise()).toMatchObject({ status: 'healthy', value: 0 });
    // canary 100 % after 5 minutes: every user is scored; a plain read still says off until full.
    await move({ stage: 'canary', percent: 100 }, later(5 * MINUTE + 30_000));
    expect(await served()).toEqual({ on: USERS.length, plain: OFF_VALUE });
    const one = (await readServing(repo, 'staging')).see(FLAG, { targetingKey: 'user-1' });
    expect(one).toEqual({ value: VALUE, variant: 'on', reason: 'SPLIT' });
    await move({ stage: 'full' }, later(5 * MINUTE + 40_000));
    expect(await served()).toEqual({ on: USERS.length, plain: VALUE });
    // "Rollback: Scoring Feature": off at once; no user is scored.
    await move({ stage: 'off' });
    expect(await served()).toEqual({ on: 0, plain: OFF_VALUE });

    // Again to dark, and this time plans start failing: above the baseline measured before the move.
    expect(await rise()).toMatchObject({ value: 0 });
    await move({ stage: 'dark' });
    await repo.query('staging', "INSERT INTO public.plan_jobs (job_id, user_id, status) VALUES ('job-failed', 'u', 'failed')");
    const breach = await rise();
    expect(breach.status).toBe('breach');
    expect(breach.detail).toContain('baseline 0');
    expect(await repo.query('staging', 'SELECT stage, recorded_kind FROM rollout.flag_rollouts WHERE key = $1', [FLAG])).toEqual([{ stage: 'off', recorded_kind: 'auto-rollback' }]);
    expect(await served()).toEqual({ on: 0, plain: OFF_VALUE });
  });
});
