/**
 * targets_from at run time, on the real server: the targets listed by a query on a control
 * database (name, url_env, labels), or by a JSON file in the repository, then planned and
 * applied like a list in the file; a row that is not a target stops everything, named by row;
 * the control query runs read-only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetApplyReport } from '../../actions/engine/fleet/apply.ts';
import type { FleetPlan } from '../../actions/engine/fleet/plan.ts';
import { cli } from '../support/cli.ts';
import { serverFleet, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const FLAGS = 'flags:\n  feature.x: { value: true }\n';
const fromQuery = (sql: string): string =>
  `version: 1\ntargets_from:\n  control_url_env: CONTROL_URL\n  query: ${JSON.stringify(sql)}\ntarget_url_env: TENANT_{NAME}_URL\nwaves:\n  - { name: eu, labels: { region: eu } }\n${FLAGS}`;

describe.skipIf(!SERVER)('targets_from: a control database or a JSON file lists the fleet', () => {
  let fleet: TestFleet;
  // t01 and t02 are the tenants; t03 is the control database that lists them.
  const run = (args: string[]) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, CONTROL_URL: fleet.processEnv.TENANT_T03_URL });

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 3);
    await fleet.query('t03', "CREATE TABLE tenants (name text PRIMARY KEY, secret text, region text); INSERT INTO tenants VALUES ('t01', NULL, 'eu'), ('t02', 'TENANT_T02_URL', 'us')");
    await writeRepository(fleet.root, {
      'environments/query.yaml': fromQuery("SELECT name, secret AS url_env, jsonb_build_object('region', region) AS labels FROM tenants ORDER BY name"),
      'environments/file.yaml': `version: 1\ntargets_from: { file: fleet/targets.json }\n${FLAGS}`,
      'fleet/targets.json': JSON.stringify([{ name: 't01', url_env: 'TENANT_T01_URL' }, { name: 't02', url_env: 'TENANT_T02_URL', labels: { region: 'us' } }], null, 2),
      'environments/badrows.yaml': fromQuery("SELECT name, secret AS url_env FROM tenants UNION ALL SELECT 'Bad Name', 'lower_case_url'"),
      'environments/writes.yaml': fromQuery('WITH gone AS (DELETE FROM tenants RETURNING name) SELECT name FROM gone'),
    });
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('a query on the control database: rows become targets, url_env by column or by convention, labels from jsonb; waves select by them', async () => {
    const planned = await run(['plan', '--env', 'query', '--format', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as FleetPlan;
    expect(plan.waves).toEqual([
      { name: 'eu', targets: ['t01'] },
      { name: 'rest', targets: ['t02'] },
    ]);
    expect(plan.targets.map((t) => [t.target, t.labels])).toEqual([
      ['t01', { region: 'eu' }],
      ['t02', { region: 'us' }],
    ]);
    const applied = await run(['apply', '--env', 'query', '--format', 'json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((JSON.parse(applied.stdout) as FleetApplyReport).targets.map((t) => [t.target, t.outcome])).toEqual([
      ['t01', 'applied'],
      ['t02', 'applied'],
    ]);
    for (const target of ['t01', 't02']) expect(await fleet.query(target, "SELECT value FROM rollout.flags WHERE key = 'feature.x'")).toEqual([{ value: true }]);
    // The control database lists targets; it is not one.
    expect(await fleet.query('t03', "SELECT to_regclass('rollout.ledger') AS ledger")).toEqual([{ ledger: null }]);
  }, 120_000);

  it('a JSON file in the repository lists them, read at run time', async () => {
    const planned = await run(['plan', '--env', 'file', '--format', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as FleetPlan;
    // Applied through the query environment already: same databases, same flags, nothing to do.
    expect(plan.targets.map((t) => [t.target, t.plan?.noop])).toEqual([
      ['t01', true],
      ['t02', true],
    ]);
  }, 120_000);

  it('rows that are not targets stop the command, each named by its row; nothing runs', async () => {
    const planned = await run(['plan', '--env', 'badrows']);
    expect(planned.code).toBe(1);
    expect(planned.stderr).toContain('the targets query of environments/badrows.yaml returned rows that are not targets; nothing was done:');
    // t01 (no url_env: the file's convention) and t02 are targets; only the third row is wrong.
    expect(planned.stderr).not.toMatch(/row [12]:/);
    expect(planned.stderr).toContain("row 3: Invalid target name 'Bad Name'.");
    expect(planned.stderr).toContain('row 3: url_env of target');
    expect(planned.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('the control query runs read-only: a query that deletes is refused and the list stays', async () => {
    const planned = await run(['plan', '--env', 'writes']);
    expect(planned.code).toBe(1);
    expect(planned.stderr).toContain('the targets query of environments/writes.yaml (targets_from.query) failed on the control database');
    expect(planned.stderr).toContain('read-only transaction');
    expect(await fleet.query('t03', 'SELECT count(*)::int AS n FROM tenants')).toEqual([{ n: 2 }]);
  }, 120_000);
});
