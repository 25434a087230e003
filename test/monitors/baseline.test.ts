/**
 * Relative thresholds (monitor `baseline`): judged against the last measurement taken before
 * the latest move of a flag the monitor is an exit criterion of; unknown without one (docs/checks.md).
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
    baseline: { above: 1.5 }      # 50 % worse than before the move breaches
`;

describe.each(databaseTargets())('relative thresholds on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, ENV);
    await writeFile(join(db.root, 'migrations', '0001_latency.sql'), 'CREATE TABLE latency (p95_ms numeric NOT NULL);\nINSERT INTO latency VALUES (500);\n');
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  const health = async () => {
    const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json']);
    return { code: run.code, report: JSON.parse(run.stdout) as HealthReport };
  };

  it('is unknown without a measurement before the move, then compares with the one before it', async () => {
    const first = await health();
    expect(first.code).toBe(3);
    expect(first.report.results[0].status).toBe('unknown');
    expect(first.report.results[0].detail).toContain('no baseline');

    // The measurement taken before the flag's move (as health wrote it then): 400 ms.
    await sql(
      db,
      `INSERT INTO rollout.measurements (environment, monitor, flags, at, value, verdict, detail)
       SELECT 'test', 'p95 latency', '{checkout.v2}', stage_since - interval '10 minutes', 400, 'healthy', 'before the move' FROM rollout.flag_rollouts WHERE key = 'checkout.v2'`,
    );
    const within = await health();
    expect(within.code).toBe(0);
    expect(within.report.results[0]).toMatchObject({ status: 'healthy', value: 500, baseline: { value: 400 } });
    expect(within.report.results[0].detail).toContain('(baseline 400 at ');

    await sql(db, 'UPDATE latency SET p95_ms = 700'); // above 1.5 × 400
    const breached = await health();
    expect(breached.code).toBe(1);
    expect(breached.report.results[0]).toMatchObject({ status: 'breach', value: 700 });
    expect(breached.report.results[0].actions).toContainEqual(expect.objectContaining({ kind: 'stage_rollback', flag: 'checkout.v2', outcome: 'rolled back' }));
  });
});
