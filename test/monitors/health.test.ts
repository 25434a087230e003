/** rollout health against a real database: thresholds, burn rates over windows, unknown data, and break-glass on breach. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';


// Requests over the last 6 hours, all good at first (health is healthy, not unknown: there is traffic).
const MIGRATION = `
CREATE TABLE requests (at timestamptz NOT NULL, ok boolean NOT NULL);
INSERT INTO requests SELECT now() - make_interval(secs => g * 10), true FROM generate_series(31, 2000) g;
INSERT INTO requests SELECT now() - make_interval(secs => g * 10), g % 50 <> 0 FROM generate_series(1, 30) g;
CREATE TABLE queue (p95_age_sec numeric);
`;

const monitors = (p95: string): string => `flags:
  global.safe_mode:
    value: { enabled: false }
    kill_switch: true
monitors:
  - name: queue p95 age
    sql: ${p95}
    above: 300
    on_breach: report
  - name: availability burn rate
    burn_rate:
      sql: SELECT count(*) FILTER (WHERE ok) AS good, count(*) AS total FROM requests WHERE at > now() - make_interval(secs => $1)
      slo: 0.999
      windows:
        - { long: 1h, short: 5m, factor: 14.4 }
        - { long: 6h, short: 30m, factor: 6 }
    severity: critical
    on_breach: { kill_switch: global.safe_mode }
`;

describe.each(databaseTargets())('rollout health on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, monitors('SELECT p95_age_sec FROM queue'));
    await writeFile(join(db.root, 'migrations', '0001_requests.sql'), MIGRATION);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  const health = async (...args: string[]) => {
    const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json', ...args]);
    return { code: run.code, report: JSON.parse(run.stdout) as HealthReport };
  };

  it('says unknown, exit 3, when there is no data', async () => {
    const { code, report } = await health();
    expect(report.results.map((r) => r.status)).toEqual(['unknown', 'healthy']);
    expect(code).toBe(3);
  });

  it('breaches only when both windows burn, and trips the kill switch by break-glass', async () => {
    await writeEnvironment(db, monitors('SELECT 120'));
    expect((await health()).code).toBe(0);

    // 30 failures 7 minutes ago: the 6h and 30m windows both burn above 6 (the 5m window does not, so pair 1 holds).
    await sql(db, 'INSERT INTO requests SELECT now() - make_interval(secs => 400 + g), false FROM generate_series(1, 30) g');
    const dry = await health('--no-act');
    expect(dry.code).toBe(1);
    expect(dry.report.results[1].action).toMatchObject({ kind: 'kill_switch', outcome: 'not run' });
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: false } }]);

    const tripped = await health();
    expect(tripped.code).toBe(1);
    expect(tripped.report.results[1]).toMatchObject({ status: 'breach', action: { outcome: 'tripped', flag: 'global.safe_mode' } });
    expect(await sql(db, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);
    expect(await sql(db, "SELECT kind, reason FROM rollout.ledger WHERE kind = 'break-glass'")).toEqual([
      { kind: 'break-glass', reason: expect.stringContaining('monitor "availability burn rate" breached') as unknown },
    ]);
    // Tripping again writes nothing; plan shows the switch as a hold to reconcile into Git.
    expect((await health()).report.results[1].action).toMatchObject({ outcome: 'already set' });
    const plan = await cliOn(db, ['plan', '--env', 'test', '--format', 'json']);
    expect((JSON.parse(plan.stdout) as { flags: { key: string; action: string }[] }).flags).toEqual([expect.objectContaining({ key: 'global.safe_mode', action: 'hold' })]);
  });
});
