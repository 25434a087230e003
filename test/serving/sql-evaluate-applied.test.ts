/**
 * rollout.evaluate as apply installs it, over the engine's own rollout.flag_definitions (the
 * view of store/definitions-sql.ts over what apply and break-glass wrote — not the test
 * fixture): for every flag of an environment and a thousand units, the database answers what the
 * pure rule answers for the definition the provider's parser reads from the same view; after a
 * kill, the override; after a canary step, the units the new percent adds and no others lost.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProblem, parseDefinition, type DefinitionRow, type FlagDefinition } from '../../packages/provider/src/definition.ts';
import { SELECT_ALL } from '../../packages/provider/src/queries.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { sql } from '../support/sql.ts';

const ENV = (percent: number) => `segments:
  internal: { keys: [staff-1, staff-2], attributes: { email_domain: [corp.example] } }
flags:
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: dark, segments: [internal] }
  ranker.policy:
    value: v2
    off_value: v1
    rollout: { stage: canary, percent: ${percent}, segments: [internal] }
  search.ranker:
    value: v2
    off_value: v1
    rollout: { stage: full }
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
  plain.limit:
    value: 10
`;

interface Answer {
  key: string;
  unit: number;
  value: unknown;
  variant: string;
  reason: string;
}

const UNITS = 1_000;
const unitOf = (i: number): Record<string, string> => (i === 0 ? { targetingKey: 'staff-2' } : i % 97 === 0 ? { targetingKey: `u-${i}`, email_domain: 'corp.example' } : { targetingKey: `u-${i}` });

/** Every flag × every unit, answered by rollout.evaluate in one query. */
async function answers(db: TestDatabase): Promise<Answer[]> {
  const units = Array.from({ length: UNITS }, (_, i) => unitOf(i));
  return sql<Answer>(
    db,
    `SELECT d.key, (u.n - 1)::int AS unit, e.value, e.variant, e.reason
       FROM rollout.flag_definitions AS d
      CROSS JOIN jsonb_array_elements($1::jsonb) WITH ORDINALITY AS u(unit, n)
      CROSS JOIN LATERAL rollout.evaluate(d.key, u.unit ->> 'targetingKey', u.unit - 'targetingKey') AS e
      ORDER BY d.key, u.n`,
    [JSON.stringify(units)],
  );
}

async function definitions(db: TestDatabase): Promise<FlagDefinition[]> {
  return (await sql<DefinitionRow>(db, `${SELECT_ALL} ORDER BY key`)).map((row) => {
    const parsed = parseDefinition(row);
    if (isProblem(parsed)) throw new Error(parsed.problem);
    return parsed;
  });
}

function expected(defs: readonly FlagDefinition[]): Answer[] {
  return [...defs]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .flatMap((d) => Array.from({ length: UNITS }, (_, unit) => {
      const r = evaluate(d, unitOf(unit));
      return { key: d.key, unit, value: r.value, variant: r.variant, reason: r.reason };
    }));
}

describe.each(databaseTargets())('rollout.evaluate installed by apply, on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('answers as the rule does over the engine\'s definitions, through a kill and a canary step', async () => {
    await writeEnvironment(db, ENV(5));
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr).toBe(0);
    const at5 = await answers(db);
    expect(at5).toHaveLength(5 * UNITS);
    expect(at5).toEqual(expected(await definitions(db)));
    const reasons = new Set(at5.map((a) => `${a.key}:${a.reason}`));
    for (const r of ['checkout.v2:TARGETING_MATCH', 'checkout.v2:DEFAULT', 'ranker.policy:SPLIT', 'ranker.policy:TARGETING_MATCH', 'search.ranker:STATIC', 'plain.limit:STATIC']) expect(reasons).toContain(r);

    const kill = await cliOn(db, ['kill', '--env', 'test', '--flag', 'global.safe_mode', '--reason', 'burn rate']);
    expect(kill.code, kill.stderr).toBe(0);
    const killed = await answers(db);
    expect(killed.filter((a) => a.key === 'global.safe_mode').every((a) => a.variant === 'break-glass' && JSON.stringify(a.value) === '{"enabled":true}')).toBe(true);
    expect(killed).toEqual(expected(await definitions(db)));

    // 5 % → 25 %: only adds units (flagd's bucketing is monotone), and the database agrees with the rule again.
    await writeEnvironment(db, ENV(25));
    // A day and a bit later (the test clock), so the 5 % rung has soaked.
    const later = new Date(Date.now() + 25 * 3_600_000).toISOString();
    const stepped = await cliOn(db, ['apply', '--env', 'test'], { ROLLOUT_NOW: later, ROLLOUT_TEST_CLOCK: '1' });
    expect(stepped.code, stepped.stderr).toBe(0);
    const at25 = await answers(db);
    expect(at25).toEqual(expected(await definitions(db)));
    const onAt = (rows: Answer[]) => new Set(rows.filter((a) => a.key === 'ranker.policy' && a.variant === 'on').map((a) => a.unit));
    const [before, after] = [onAt(killed), onAt(at25)];
    for (const unit of before) expect(after.has(unit)).toBe(true);
    expect(after.size).toBeGreaterThan(before.size + 100);
  });
});
