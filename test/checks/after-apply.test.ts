/** apply → checks → revert: a failing check puts the apply's flag changes back, in one transaction, with a 'revert' ledger entry. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';


// The check reads the flag it guards: "ranker epsilon must stay below 0.5".
const env = (epsilon: number, extraFlag = ''): string => `flags:
  ranker.policy:
    value: { version: v1, epsilon: ${epsilon} }
  marketplace.suggest:
    value: true${extraFlag}
checks:
  - name: epsilon below 0.5
    sql: SELECT (value->>'epsilon')::float8 FROM rollout.flags WHERE key = 'ranker.policy'
    expect: { between: [0, 0.5] }
`;

describe.each(databaseTargets())('verify after apply on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('keeps an apply whose checks pass', async () => {
    await writeEnvironment(db, env(0.1));
    const run = await cliOn(db, ['apply', '--env', 'test']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('1 passed');
  });

  it('reverts the forward flag changes of an apply whose checks fail, and keeps migrations and a flag turned off', async () => {
    await writeEnvironment(db, env(0.1));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);

    await writeFile(join(db.root, 'migrations', '0001_table.sql'), 'CREATE TABLE kept (id int);');
    await writeEnvironment(db, env(0.9, '\n  brand.new:\n    value: 1').replace('marketplace.suggest:\n    value: true', 'marketplace.suggest:\n    value: false'));
    const run = await cliOn(db, ['apply', '--env', 'test']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('REVERTED');
    expect(run.stdout).toContain('migrations are forward-only and were NOT reverted: migrations/0001_table.sql');
    // Turning a flag off is a move toward safety: a revert never undoes it (revert-keeps-rollbacks.test.ts).
    expect(run.stdout).toContain('kept marketplace.suggest: turned off (true → false)');

    const flags = await sql<{ key: string; value: unknown }>(db, 'SELECT key, value FROM rollout.flags ORDER BY key');
    expect(flags).toEqual([
      { key: 'marketplace.suggest', value: false },
      { key: 'ranker.policy', value: { version: 'v1', epsilon: 0.1 } },
    ]);
    expect(await sql(db, "SELECT to_regclass('public.kept') IS NOT NULL AS kept")).toEqual([{ kept: true }]);

    const ledger = await sql<{ id: string; kind: string; outcome: string; reason: string }>(db, 'SELECT id::text, kind, outcome, reason FROM rollout.ledger ORDER BY id');
    expect(ledger.map((l) => l.kind)).toEqual(['apply', 'apply', 'revert']);
    expect(ledger[2].reason).toContain('epsilon below 0.5');
    const changes = await sql<{ key: string; action: string; old_value: unknown; new_value: unknown }>(
      db,
      `SELECT key, action, old_value, new_value FROM rollout.ledger_changes WHERE ledger_id = ${ledger[2].id} ORDER BY key`,
    );
    expect(changes).toEqual([
      { key: 'brand.new', action: 'revert', old_value: 1, new_value: null },
      { key: 'ranker.policy', action: 'revert', old_value: { version: 'v1', epsilon: 0.9 }, new_value: { version: 'v1', epsilon: 0.1 } },
    ]);

    // Git still wants the failing values: plan shows them as changes to apply again.
    const plan = await cliOn(db, ['plan', '--env', 'test', '--format', 'json']);
    expect((JSON.parse(plan.stdout) as { summary: { add: number; change: number } }).summary).toMatchObject({ add: 1, change: 1 });
  });

  it('--no-verify skips the checks', async () => {
    await writeEnvironment(db, env(0.9));
    const run = await cliOn(db, ['apply', '--env', 'test', '--no-verify']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('check(s)');
    expect(await sql(db, 'SELECT count(*)::int AS n FROM rollout.flags')).toEqual([{ n: 2 }]);
  });
});
