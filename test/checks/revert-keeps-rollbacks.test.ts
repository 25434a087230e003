/**
 * A failed-checks revert undoes only the apply's forward moves: a rollback, a flag turned off
 * and a kill-switch trip made in that same apply stay (checks/revert-policy.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

interface State {
  epsilon: number;
  search: number;
  checkout: number;
  pricing: { limit: number; percent: number };
  suggest: boolean;
  safeMode: boolean;
  extra?: string;
}

const environment = (s: State): string => `flags:
  ranker.policy:                 # a value change: forward
    value: { version: v1, epsilon: ${s.epsilon} }
  search.v2:
    value: true
    off_value: false
    rollout: { stage: canary, percent: ${s.search} }
  checkout.v3:
    value: true
    off_value: false
    rollout: { stage: canary, percent: ${s.checkout} }
  pricing.rules:
    value: { limit: ${s.pricing.limit} }
    off_value: { limit: 0 }
    rollout: { stage: canary, percent: ${s.pricing.percent} }
  marketplace.suggest:
    value: ${s.suggest}
  global.safe_mode:
    value: { enabled: ${s.safeMode} }
    kill_switch: true${s.extra ?? ''}
checks:
  - name: epsilon below 0.5
    sql: SELECT (value->>'epsilon')::float8 FROM rollout.flags WHERE key = 'ranker.policy'
    expect: { between: [0, 0.5] }
`;

const BEFORE: State = { epsilon: 0.1, search: 5, checkout: 50, pricing: { limit: 10, percent: 50 }, suggest: true, safeMode: false };
// One apply: a bad value (the check fails), a stage raised, a stage lowered, a value changed
// while its stage is lowered, a flag turned off, the kill switch tripped, a flag added.
const AFTER: State = { epsilon: 0.9, search: 25, checkout: 5, pricing: { limit: 20, percent: 25 }, suggest: false, safeMode: true, extra: '\n  brand.new:\n    value: 1' };
const DAY = 86_400_000;

describe.each(databaseTargets())('a failed-checks revert on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('undoes the forward moves and keeps the rollbacks, the flag turned off and the kill-switch trip', { timeout: 120_000 }, async () => {
    await writeEnvironment(db, environment(BEFORE));
    const first = await cliOn(db, ['apply', '--env', 'test']);
    expect(first.code, first.stdout + first.stderr).toBe(0);

    await writeEnvironment(db, environment(AFTER));
    // Past the canary soak, so that raising search.v2 is allowed.
    const run = await cliOn(db, ['apply', '--env', 'test'], { ROLLOUT_NOW: new Date(Date.now() + 2 * DAY).toISOString(), ROLLOUT_TEST_CLOCK: '1' });
    expect(run.code, run.stdout + run.stderr).toBe(1);

    const rollouts = await sql<{ key: string; stage: string | null; percent: number | null; value: unknown }>(
      db,
      'SELECT key, stage, percent::int AS percent, value FROM rollout.flag_rollouts ORDER BY key',
    );
    expect(rollouts).toEqual([
      { key: 'checkout.v3', stage: 'canary', percent: 5, value: true }, // rollback kept
      { key: 'global.safe_mode', stage: null, percent: null, value: { enabled: true } }, // trip kept
      { key: 'marketplace.suggest', stage: null, percent: null, value: false }, // turned off: kept
      { key: 'pricing.rules', stage: 'canary', percent: 25, value: { limit: 10 } }, // rollback kept, value change undone
      { key: 'ranker.policy', stage: null, percent: null, value: { version: 'v1', epsilon: 0.1 } }, // undone
      { key: 'search.v2', stage: 'canary', percent: 5, value: true }, // raise undone
    ]);
    expect(run.stdout).toContain('REVERTED');
    expect(run.stdout).toMatch(/kept checkout\.v3: .*rollback/);
    expect(run.stdout).toMatch(/kept global\.safe_mode: .*kill switch/);
    // brand.new was added: removed again, from the value table too.
    expect(await sql(db, "SELECT count(*)::int AS n FROM rollout.flags WHERE key = 'brand.new'")).toEqual([{ n: 0 }]);
    // What a unit sees: safe mode on for everyone.
    expect(await sql(db, "SELECT value FROM rollout.evaluate('global.safe_mode', 'user-1', '{}'::jsonb)")).toEqual([{ value: { enabled: true } }]);

    const [entry] = await sql<{ id: string; outcome: string; summary: Record<string, unknown> }>(
      db,
      "SELECT id::text, outcome, summary FROM rollout.ledger WHERE kind = 'revert'",
    );
    expect(entry.outcome).toBe('reverted');
    expect(entry.summary).toMatchObject({ flags: 4 });
    const kept = (entry.summary.kept as { key: string; part: string; move: string }[]).map(({ key, part, move }) => ({ key, part, move }));
    expect(kept).toEqual([
      { key: 'checkout.v3', part: 'stage', move: 'rollback' },
      { key: 'global.safe_mode', part: 'value', move: 'kill-switch-trip' },
      { key: 'marketplace.suggest', part: 'value', move: 'turned-off' },
      { key: 'pricing.rules', part: 'stage', move: 'rollback' },
    ]);
    const changes = await sql<{ key: string; old_value: unknown; new_value: unknown; old_percent: number | null; new_percent: number | null }>(
      db,
      `SELECT key, old_value, new_value, old_percent::int AS old_percent, new_percent::int AS new_percent
         FROM rollout.ledger_changes WHERE ledger_id = ${entry.id} AND action = 'revert' ORDER BY key`,
    );
    expect(changes).toEqual([
      { key: 'brand.new', old_value: 1, new_value: null, old_percent: null, new_percent: null },
      { key: 'pricing.rules', old_value: { limit: 20 }, new_value: { limit: 10 }, old_percent: 25, new_percent: 25 },
      { key: 'ranker.policy', old_value: { version: 'v1', epsilon: 0.9 }, new_value: { version: 'v1', epsilon: 0.1 }, old_percent: null, new_percent: null },
      { key: 'search.v2', old_value: true, new_value: true, old_percent: 25, new_percent: 5 },
    ]);

    // Git still asks for the forward moves; the kept ones are live already.
    const plan = await cliOn(db, ['plan', '--env', 'test', '--format', 'json'], { ROLLOUT_NOW: new Date(Date.now() + 2 * DAY).toISOString() });
    const planned = JSON.parse(plan.stdout) as { flags: { key: string; action: string }[] };
    expect(planned.flags.map((f) => `${f.action} ${f.key}`).sort()).toEqual(['add brand.new', 'change pricing.rules', 'change ranker.policy', 'change search.v2']);
  });
});
