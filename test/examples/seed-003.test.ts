/**
 * Seed 003 (Stream 5) with the real CLI: the 8 movements seeded once (no duplicates,
 * audit rows match), and the scoring flag typed by its payload contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets } from '../support/databases.ts';
import { exampleRepo, setRollout, setValue, type ExampleRepo } from './support.ts';

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
});
