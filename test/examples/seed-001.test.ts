/**
 * Seed 001 (Day-0 cutover) walked with the real CLI: migrations and flags applied,
 * ranker.policy through internal → 5% → 25% → 100% with its soaks (1 d, 2 d, 3 d),
 * and the safe-mode abort switch flipped mid-canary, which no gate may block.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Position } from '../../actions/engine/stages/ladder.ts';
import { databaseTargets } from '../support/databases.ts';
import { days, exampleRepo, later, setRollout, setValue, type ExampleRepo } from './support.ts';

const HOUR = 3_600_000;

describe.each(databaseTargets())('examples/seed-001-day0-cutover on $name', (target) => {
  let repo: ExampleRepo;
  beforeEach(async () => {
    repo = await exampleRepo('seed-001-day0-cutover', target);
  });
  afterEach(() => repo.dispose());

  const move = (rollout: Position) => repo.edit('staging', (text) => setRollout(text, 'ranker.policy', rollout));
  const stageOf = async (key: string) =>
    (await repo.query<{ stage: string; percent: string | null }>('staging', 'SELECT stage, percent::text AS percent FROM rollout.flag_rollouts WHERE key = $1', [key]))[0];

  it('walks the canary phases with their soaks, and the safe-mode abort is never refused', { timeout: 300_000 }, async () => {
    const first = await repo.run(['apply', '--env', 'staging']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('migrated migrations/0002_core_tables.sql');
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'off', percent: null });

    // Phase 1: internal (dark). off needs no soak.
    await move({ stage: 'dark' });
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);

    // Phase 2: 5%, refused until internal testing has soaked a day.
    await move({ stage: 'canary', percent: 5 });
    const early = await repo.run(['plan', '--env', 'staging']);
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/✗ ranker\.policy has been at dark in staging since \S+: .+ of 24 h soaked; .* to go before the next step\./);
    const refused = await repo.run(['apply', '--env', 'staging']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('1 stage move(s) refused by their gates; nothing was applied');
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'dark', percent: null });
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(1) + HOUR) })).code).toBe(0);
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'canary', percent: '5' });

    // Skipping 25% is refused whatever the clock says.
    await move({ stage: 'full' });
    const skip = await repo.run(['plan', '--env', 'staging'], { now: later(days(30)) });
    expect(skip.code).toBe(1);
    expect(skip.stdout).toContain('canary 5% → full skips canary 25%; go one step at a time');

    // Phase 3: 25%, after 2 days at 5%.
    await move({ stage: 'canary', percent: 25 });
    const tooSoon = await repo.run(['apply', '--env', 'staging'], { now: later(days(1)) });
    expect(tooSoon.code).toBe(1);
    expect(tooSoon.stderr).toMatch(/of 2 d soaked/);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(2) + HOUR) })).code).toBe(0);

    // Abort switch mid-canary: safe mode on and off again, at once, whatever the soaks say.
    await repo.edit('staging', (text) => setValue(text, 'global.safe_mode', { enabled: true }));
    const abort = await repo.run(['apply', '--env', 'staging']);
    expect(abort.code).toBe(0);
    expect(abort.stdout).toContain('change global.safe_mode');
    const [safe] = await repo.query<{ value: unknown }>('staging', "SELECT value FROM public.feature_flags WHERE key = 'global.safe_mode'");
    expect(safe.value).toEqual({ enabled: true });
    await repo.edit('staging', (text) => setValue(text, 'global.safe_mode', { enabled: false }));
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);

    // Phase 4: 100% (full) after 3 days at 25%.
    await move({ stage: 'full' });
    const notYet = await repo.run(['apply', '--env', 'staging'], { now: later(days(2)) });
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/of 3 d soaked/);
    expect((await repo.run(['apply', '--env', 'staging'], { now: later(days(3) + HOUR) })).code).toBe(0);
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'full', percent: null });

    // A rollback from full straight to off is never refused.
    await move({ stage: 'off' });
    expect((await repo.run(['apply', '--env', 'staging'])).code).toBe(0);
    expect(await stageOf('ranker.policy')).toEqual({ stage: 'off', percent: null });
  });
});
