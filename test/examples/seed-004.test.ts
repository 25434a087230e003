/**
 * Seed 004 (schema finalization) with the real CLI: dark_mode → shadow_mode →
 * partial_active → full_active, each after its soak, then the staged rollback to
 * disabled, one stage at a time, none of it ever refused.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromSeed004, SEED_004_LADDER } from '../../actions/engine/stages/vocabulary.ts';
import { databaseTargets } from '../support/databases.ts';
import { exampleRepo, later, setRollout, type ExampleRepo } from './support.ts';

const MINUTE = 60_000;
const FLAG = 'schema_finalization.providers';

describe.each(databaseTargets())('examples/seed-004-staged-rollout on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-004-staged-rollout', target);
  });
  afterEach(() => repo.dispose());

  const goTo = (name: string) => repo.edit('production', (text) => setRollout(text, FLAG, fromSeed004(name, SEED_004_LADDER)!));
  const stage = async () => (await repo.query<{ stage: string; percent: string | null }>('production', 'SELECT stage, percent::text AS percent FROM rollout.flag_rollouts WHERE key = $1', [FLAG]))[0];

  it('goes dark → shadow → partial → full with its soaks, and rolls back to disabled stage by stage', { timeout: 300_000 }, async () => {
    expect((await repo.run(['apply', '--env', 'production'])).code).toBe(0);
    await goTo('dark_mode');
    expect((await repo.run(['apply', '--env', 'production'])).code).toBe(0);

    await goTo('shadow_mode');
    const early = await repo.run(['apply', '--env', 'production'], { now: later(5 * MINUTE) });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/has been at dark in production since \S+: .+ of 10 min soaked/);
    expect((await repo.run(['apply', '--env', 'production'], { now: later(11 * MINUTE) })).code).toBe(0);

    await goTo('partial_active');
    expect((await repo.run(['apply', '--env', 'production'], { now: later(16 * MINUTE) })).code).toBe(0);
    expect(await stage()).toEqual({ stage: 'canary', percent: '25' });

    await goTo('full_active');
    expect((await repo.run(['apply', '--env', 'production'], { now: later(10 * MINUTE) })).code).toBe(1);
    expect((await repo.run(['apply', '--env', 'production'], { now: later(21 * MINUTE) })).code).toBe(0);
    expect(await stage()).toEqual({ stage: 'full', percent: null });

    // Staged rollback: one stage back at a time, at once, never refused.
    for (const name of ['partial_active', 'shadow_mode', 'dark_mode', 'disabled']) {
      await goTo(name);
      const back = await repo.run(['apply', '--env', 'production']);
      expect(back.stderr).toBe('');
      expect(back.code).toBe(0);
    }
    expect(await stage()).toEqual({ stage: 'off', percent: null });
    const ledger = await repo.query<{ old_stage: string | null; new_stage: string }>(
      'production',
      "SELECT old_stage, new_stage FROM rollout.ledger_changes WHERE key = $1 AND subject = 'flag' ORDER BY ledger_id",
      [FLAG],
    );
    expect(ledger.map((r) => `${r.old_stage ?? '—'}→${r.new_stage}`)).toEqual([
      '—→off', 'off→dark', 'dark→shadow', 'shadow→canary', 'canary→full', 'full→canary', 'canary→shadow', 'shadow→dark', 'dark→off',
    ]);
  });
});
