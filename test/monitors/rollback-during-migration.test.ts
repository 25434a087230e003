/**
 * An exit criterion's rollback waits for no migration: like a kill switch it takes only the
 * flag-write lock, never the environment lock an apply holds through its migrations; the apply's
 * flag step then sees it and holds the flag. Real server only: the embedded database runs one
 * statement at a time for every connection of its process.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const ENV = `flags:
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: canary, percent: 25 }
    exit_criteria:
      canary: [p95 latency]
monitors:
  - name: p95 latency
    sql: SELECT p95_ms FROM latency
    above: 1000
`;

const server = databaseTargets().find((t) => t.name === 'server');
const SLOW = "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND state = 'active' AND pid <> pg_backend_pid()";

describe.skipIf(!server)('an auto-rollback while an apply runs a long migration (server)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await server!.create();
    await writeEnvironment(db, ENV);
    await writeFile(join(db.root, 'migrations', '0001_latency.sql'), 'CREATE TABLE latency (p95_ms numeric NOT NULL);\nINSERT INTO latency VALUES (1240);\n');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  it('moves the flag back and commits before the migration ends; the apply then holds it', { timeout: 60_000 }, async () => {
    await writeFile(join(db.root, 'migrations', '20261202000000_slow.sql'), 'CREATE TABLE slow_done (id int);\nSELECT pg_sleep(6);\n');
    const apply = cliOn(db, ['apply', '--env', 'test']);
    await waitFor(async () => (await sql(db, SLOW)).length > 0);

    const health = await cliOn(db, ['health', '--env', 'test', '--format', 'json']);
    expect(health.code, health.stderr).toBe(1);
    // The migration is still running: the rollback did not wait for it.
    expect(await sql(db, SLOW)).toHaveLength(1);
    const [result] = (JSON.parse(health.stdout) as HealthReport).results;
    expect(result.actions).toContainEqual(expect.objectContaining({ kind: 'stage_rollback', outcome: 'rolled back' }));
    expect(await sql(db, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'checkout.v2'")).toEqual([{ stage: 'canary', percent: 5 }]);

    const applied = await apply;
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('migrated migrations/20261202000000_slow.sql');
    expect(applied.stdout).toMatch(/kept checkout\.v2: an exit criterion breached and moved this flag back to canary 5% \(auto-rollback, ledger #\d+\)/);
    expect((await sql<{ kind: string }>(db, 'SELECT kind FROM rollout.ledger ORDER BY id')).map((r) => r.kind)).toEqual(['apply', 'auto-rollback', 'apply']);
    // The apply's flag step read live state after the rollback: the flag stays back.
    expect(await sql(db, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'checkout.v2'")).toEqual([{ stage: 'canary', percent: 5 }]);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the migration to start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
