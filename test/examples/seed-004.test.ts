/**
 * Seed 004 (schema finalization) with the real CLI: dark_mode → shadow_mode →
 * partial_active (the 8 high-priority providers, a named segment) → full_active, each after
 * its soak with exit criteria 16-18 measured healthy by `rollout health`, a breach at
 * partial_active rolling the stage back by itself, then the staged rollback to disabled, one
 * stage at a time, none of it ever refused. At every stage, what each of the 28 providers is
 * served is read back after the apply, through the provider package's evaluator over
 * rollout.flag_definitions, and from the plain value table.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import { readServing, servedValueInSql, type Serving } from './serving.ts';
import { exampleRepo, later, type ExampleRepo } from './support.ts';

const MINUTE = 60_000;
const FLAG = 'schema_finalization.providers';
const VALUE = { providers: ['draftkings', 'fanduel', 'stub'], min_cache_hit_rate: 0.7, max_response_ms: 1000 };
const OFF_VALUE = { providers: [], min_cache_hit_rate: 0.7, max_response_ms: 1000 };

/** The guide's stage names as the rollout line a PR writes (docs/stages.md, "The seeds' names"). */
const RUNGS = {
  disabled: '{ stage: off }',
  dark_mode: '{ stage: dark }',
  shadow_mode: '{ stage: shadow }',
  partial_active: '{ stage: canary, segments: [high_priority] }',
  full_active: '{ stage: full }',
} as const;

/** The guide's dark-mode traffic (50 requests of the 12 enabled providers, 74 % cache hits, no errors): criteria 16-18 healthy. */
const HEALTHY_REQUESTS = `
  INSERT INTO public.provider_requests (sport, provider, cache_hit, response_ms, error)
  SELECT p.sport, p.provider, g <= 37, CASE WHEN g <= 25 THEN 200.5 ELSE 300.5 END, false
  FROM generate_series(1, 50) g
  JOIN (SELECT sport, provider, row_number() OVER (ORDER BY sport, provider) - 1 AS n FROM public.provider_states WHERE enabled) p ON p.n = g % 12`;

describe.each(databaseTargets())('examples/seed-004-staged-rollout on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-004-staged-rollout', target);
  });
  afterEach(() => repo.dispose());

  const goTo = (name: keyof typeof RUNGS) => repo.edit('production', (text) => text.replace(/rollout: \{[^}\n]*\}/, `rollout: ${RUNGS[name]}`));
  const stage = async () => (await repo.query<{ stage: string; percent: string | null }>('production', 'SELECT stage, percent::text AS percent FROM rollout.flag_rollouts WHERE key = $1', [FLAG]))[0];
  const apply = async (now?: Date) => {
    const run = await repo.run(['apply', '--env', 'production'], now ? { now } : {});
    expect(run.code, run.stderr + run.stdout).toBe(0);
  };
  /** `rollout health`: exit criteria 16-18 measured and recorded, as the 15-minute health workflow does. */
  const health = () => repo.run(['health', '--env', 'production', '--format', 'json']);
  const providers = async () => (await repo.query<{ unit: string }>('production', "SELECT sport || ':' || provider AS unit FROM public.provider_states ORDER BY 1")).map((r) => r.unit);
  const highPriority = async () =>
    (await repo.query<{ unit: string }>('production', "SELECT sport || ':' || provider AS unit FROM public.provider_states WHERE priority = 'high' AND enabled ORDER BY 1")).map((r) => r.unit);
  /** After an apply: which providers are served the rollout's value (the provider's evaluator, checked against rollout.evaluate), and what a plain read of the value table says. */
  const served = async (): Promise<{ serving: Serving; on: string[] }> => {
    const serving = await readServing(repo, 'production');
    const units = await providers();
    const on = serving.servedValue(FLAG, units);
    // rollout.evaluate, the SQL reader, serves the same providers as the provider's evaluator.
    expect(await servedValueInSql(repo, 'production', FLAG, units)).toEqual(on);
    return { serving, on };
  };

  it('what each of the 28 providers sees at every stage: none until partial, the 8 high-priority ones there, all 28 at full, none after the rollback', { timeout: 300_000 }, async () => {
    await apply();
    const all = await providers();
    expect(all).toHaveLength(28);
    let seen = await served();
    expect(seen.on).toEqual([]);
    expect(seen.serving.see(FLAG, { targetingKey: 'NFL:draftkings' })).toEqual({ value: OFF_VALUE, variant: 'off', reason: 'DISABLED' });
    expect(seen.serving.plain(FLAG)).toEqual(OFF_VALUE);

    // dark_mode: "metrics collected, no provider activated".
    await goTo('dark_mode');
    await apply();
    seen = await served();
    expect(seen.on).toEqual([]);
    expect(seen.serving.see(FLAG, { targetingKey: 'NFL:draftkings' })).toMatchObject({ value: OFF_VALUE, variant: 'off' });
    expect(seen.serving.plain(FLAG)).toEqual(OFF_VALUE);

    // Skipping a stage is refused: after dark_mode comes shadow_mode.
    await goTo('partial_active');
    const skipping = await repo.run(['apply', '--env', 'production'], { now: later(11 * MINUTE) });
    expect(skipping.code).toBe(1);
    expect(skipping.stderr + skipping.stdout).toMatch(/skips .*go one step at a time/);

    // shadow_mode: every provider is served the old value; the new one rides beside it, to log only.
    await repo.query('production', HEALTHY_REQUESTS);
    expect((await health()).code).toBe(0);
    await goTo('shadow_mode');
    // dark_mode soaks 10 minutes first.
    const earlyShadow = await repo.run(['apply', '--env', 'production'], { now: later(9 * MINUTE) });
    expect(earlyShadow.code).toBe(1);
    expect(earlyShadow.stderr + earlyShadow.stdout).toMatch(/of 10 min soaked/);
    await apply(later(11 * MINUTE));
    seen = await served();
    expect(seen.on).toEqual([]);
    for (const unit of all) expect(seen.serving.see(FLAG, { targetingKey: unit })).toEqual({ value: OFF_VALUE, variant: 'off', reason: 'STATIC', shadowValue: VALUE });
    expect(seen.serving.plain(FLAG)).toEqual(OFF_VALUE);

    // partial_active: exactly the 8 high-priority providers of the data (criterion 6), by segment, not by percent.
    expect((await health()).code).toBe(0);
    await goTo('partial_active');
    // shadow_mode soaks 15 minutes first.
    const earlyPartial = await repo.run(['apply', '--env', 'production'], { now: later(14 * MINUTE) });
    expect(earlyPartial.code).toBe(1);
    expect(earlyPartial.stderr + earlyPartial.stdout).toMatch(/of 15 min soaked/);
    await apply(later(16 * MINUTE));
    expect(await stage()).toEqual({ stage: 'canary', percent: '0' });
    seen = await served();
    expect(seen.on).toEqual(await highPriority());
    expect(seen.on).toHaveLength(8);
    expect(seen.serving.see(FLAG, { targetingKey: 'MLB:fanduel' })).toEqual({ value: VALUE, variant: 'on', reason: 'TARGETING_MATCH', segment: 'high_priority' });
    expect(seen.serving.see(FLAG, { targetingKey: 'MLB:stub' })).toMatchObject({ value: OFF_VALUE, variant: 'off' });
    expect(seen.serving.plain(FLAG)).toEqual(OFF_VALUE);

    // full_active after partial's 20 minutes: all 28; the value table holds the value now.
    expect((await health()).code).toBe(0);
    await goTo('full_active');
    const earlyFull = await repo.run(['apply', '--env', 'production'], { now: later(10 * MINUTE) });
    expect(earlyFull.code).toBe(1);
    expect(earlyFull.stderr + earlyFull.stdout).toMatch(/of 20 min soaked/);
    await apply(later(21 * MINUTE));
    expect(await stage()).toEqual({ stage: 'full', percent: null });
    seen = await served();
    expect(seen.on).toEqual(all);
    expect(seen.serving.plain(FLAG)).toEqual(VALUE);

    // Staged rollback: one stage back at a time, at once, never refused.
    for (const name of ['partial_active', 'shadow_mode', 'dark_mode', 'disabled'] as const) {
      await goTo(name);
      const back = await repo.run(['apply', '--env', 'production']);
      expect(back.stderr).toBe('');
      expect(back.code).toBe(0);
      if (name === 'partial_active') expect((await served()).on).toHaveLength(8);
    }
    expect(await stage()).toEqual({ stage: 'off', percent: null });
    seen = await served();
    expect(seen.on).toEqual([]);
    expect(seen.serving.plain(FLAG)).toEqual(OFF_VALUE);
    const ledger = await repo.query<{ action: string; old_stage: string | null; new_stage: string | null; segments: unknown }>(
      'production',
      "SELECT action, old_stage, new_stage, new_value->'segments' AS segments FROM rollout.ledger_changes WHERE key = $1 AND subject = 'flag' ORDER BY ledger_id, ordinal",
      [FLAG],
    );
    expect(ledger.filter((r) => r.action !== 'serving').map((r) => `${r.old_stage ?? '—'}→${r.new_stage}`)).toEqual([
      '—→off', 'off→dark', 'dark→shadow', 'shadow→canary', 'canary→full', 'full→canary', 'canary→shadow', 'shadow→dark', 'dark→off',
    ]);
    // Who is served moved with the segment: recorded beside the moves that named or dropped it.
    expect(ledger.filter((r) => r.action === 'serving').map((r) => (Array.isArray(r.segments) ? r.segments.length : 0))).toEqual([1, 0, 1, 0]);
  });

  it('exit criteria gate each move and roll back: no measurement refuses shadow; 5 errors at partial_active move it back to shadow_mode by itself', { timeout: 300_000 }, async () => {
    await apply();
    await goTo('dark_mode');
    await apply();
    await goTo('shadow_mode');
    const unmeasured = await repo.run(['apply', '--env', 'production'], { now: later(11 * MINUTE) });
    expect(unmeasured.code).toBe(1);
    expect(unmeasured.stderr + unmeasured.stdout).toContain("no measurements of '16 cache hit rate' since dark began");
    await repo.query('production', HEALTHY_REQUESTS);
    expect((await health()).code).toBe(0);
    await apply(later(11 * MINUTE));
    expect((await health()).code).toBe(0);
    await goTo('partial_active');
    await apply(later(16 * MINUTE));

    // "error rate < 5/stage": the fifth error in partial_active breaches criterion 18.
    await repo.query('production', "INSERT INTO public.provider_requests (sport, provider, cache_hit, response_ms, error) SELECT 'NBA', 'fanduel', true, 300, true FROM generate_series(1, 5)");
    const breach = await health();
    expect(breach.code).toBe(1);
    const report = JSON.parse(breach.stdout) as { results: { name: string; status: string; actions?: { kind: string; outcome?: string }[] }[] };
    expect(report.results.find((r) => r.name === '18 errors this stage')).toMatchObject({
      status: 'breach',
      actions: expect.arrayContaining([expect.objectContaining({ kind: 'stage_rollback', outcome: 'rolled back' })]) as unknown,
    });
    expect(await stage()).toEqual({ stage: 'shadow', percent: null });
    const seen = await served();
    expect(seen.on).toEqual([]);
    expect(seen.serving.see(FLAG, { targetingKey: 'NFL:fanduel' })).toMatchObject({ value: OFF_VALUE, shadowValue: VALUE });
    expect(seen.serving.plain(FLAG)).toEqual(OFF_VALUE);
    const [entry] = await repo.query<{ reason: string }>('production', "SELECT reason FROM rollout.ledger WHERE kind = 'auto-rollback'");
    expect(entry.reason).toBe('exit criteria breached: "18 errors this stage" (5 is above 4)');
  });
});
