/**
 * rollout verify end to end: every check kind against a real database (embedded, and a
 * server with TEST_DATABASE_URL) and a real HTTP server on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import type { CheckReport, CheckResult } from '../../actions/engine/checks/index.ts';

const MIGRATION = `
CREATE TABLE public.feature_flags (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE public.movements (id int PRIMARY KEY, name text NOT NULL, owner_id int);
INSERT INTO public.movements SELECT g, 'movement ' || g, g % 3 FROM generate_series(1, 8) g;
CREATE INDEX movements_owner_idx ON public.movements (owner_id);
CREATE VIEW public.vw_movements AS SELECT id FROM public.movements;
CREATE FUNCTION public.movement_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM public.movements';
ALTER TABLE public.movements ENABLE ROW LEVEL SECURITY;
CREATE POLICY movements_owner ON public.movements USING (owner_id IS NOT NULL);
CREATE TABLE public.plans (id text PRIMARY KEY, result_data jsonb NOT NULL);
INSERT INTO public.plans VALUES
  ('p1', '{"scoring": {"total": 0.4, "version": "fixed-weight-v1"}}'),
  ('p2', '{"scoring": {"total": 1.7, "version": "fixed-weight-v1"}}'),
  ('p3', '{"scoring": {"total": 0.9}}');
`;

const SCORING_CONTRACT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['total', 'version'],
  properties: { total: { type: 'number', minimum: 0, maximum: 1 }, version: { type: 'string' } },
};
const HEALTH_CONTRACT = { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } };

const ENVIRONMENT = `flag_store:
  table: public.feature_flags
flags:
  dashboard.kill_switch:
    value: { enabled: false }
    kill_switch: true
checks:
  - name: exactly 8 movements
    sql: SELECT count(*) FROM public.movements
    expect: { value: 8 }
  - name: wrong count
    sql: SELECT count(*) FROM public.movements
    expect: { value: 9 }
  - name: row count
    sql: SELECT id FROM public.movements WHERE owner_id = 1
    expect: { rows: 3 }
  - name: no duplicates
    sql: SELECT name FROM public.movements GROUP BY name HAVING count(*) > 1
    expect: { no_rows: true }
  - name: ratio in range
    sql: SELECT 0.5::numeric
    expect: { between: [0, 1] }
  - name: over budget
    sql: SELECT 1
    expect: { rows: 1 }
    latency_budget: 0ms
  - name: schema present
    schema:
      tables: [public.movements]
      views: [public.vw_movements]
      functions: [public.movement_count, movement_count()]
      indexes: [public.movements_owner_idx]
      policies: [{ table: public.movements, name: movements_owner }]
  - name: schema missing
    schema:
      tables: [public.nope]
      policies: [{ table: public.plans }]
  - name: index used
    explain:
      sql: SELECT * FROM public.movements WHERE owner_id = 2
      uses_index: public.movements_owner_idx
  - name: index not used
    explain:
      sql: SELECT * FROM public.movements WHERE name = 'x'
      uses_index: movements_owner_idx
  - name: health endpoint
    http:
      url: \${API_URL}/health
      contract: health
      headers: { authorization: "Bearer \${API_TOKEN}" }
  - name: dashboard answers 503 while its kill switch is off
    when_flag: { key: dashboard.kill_switch, equals: { enabled: false } }
    http:
      url: \${API_URL}/dashboard
      expect_status: 503
  - name: dashboard works once on
    when_flag: { key: dashboard.kill_switch }
    http:
      url: \${API_URL}/dashboard
  - name: health body breaks contract
    http:
      method: POST
      url: \${API_URL}/broken
      body: { probe: true }
      contract: health
  - name: unset variable
    http:
      url: \${NOT_SET_ANYWHERE}/x
  - name: scoring payloads satisfy the contract
    rows_satisfy:
      sql: SELECT id, result_data->'scoring' AS scoring FROM public.plans ORDER BY id
      contract: scoring-payload
      key: id
      column: scoring
  - name: hostile
    sql: COMMIT; DELETE FROM public.movements
    expect: { rows: 0 }
  - name: shared
    use: smoke
`;

const SHARED = `# shared between environments
- name: movements exist
  schema: { tables: [public.movements] }
- name: eight
  sql: SELECT count(*) FROM public.movements
  expect: { min_rows: 1, value: 8 }
`;

describe.each(databaseTargets())('rollout verify on $name', (target) => {
  let db: TestDatabase;
  let server: Server;
  let apiUrl: string;
  let report: CheckReport;
  let code: number;
  const seen: { url?: string; authorization?: string; body: string }[] = [];
  const result = (name: string): CheckResult => {
    const found = report.results.find((r) => r.name === name);
    if (!found) throw new Error(`no result named ${name}`);
    return found;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ url: req.url, authorization: req.headers.authorization, body });
        if (req.url === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        else if (req.url === '/dashboard') res.writeHead(503).end('kill switch off');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"degraded"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    db = await target.create();
    await writeEnvironment(db, ENVIRONMENT);
    await writeFile(join(db.root, 'migrations', '0001_setup.sql'), MIGRATION);
    await mkdir(join(db.root, 'contracts'), { recursive: true });
    await mkdir(join(db.root, 'checks'), { recursive: true });
    await writeFile(join(db.root, 'contracts', 'scoring-payload.schema.json'), JSON.stringify(SCORING_CONTRACT));
    await writeFile(join(db.root, 'contracts', 'health.schema.json'), JSON.stringify(HEALTH_CONTRACT));
    await writeFile(join(db.root, 'checks', 'smoke.yaml'), SHARED);
    const applied = await cliOn(db, ['apply', '--env', 'test', '--no-verify']);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const run = await cliOn(db, ['verify', '--env', 'test', '--format', 'json', '--junit', 'report.xml'], { API_URL: apiUrl, API_TOKEN: 'tok-secret-123456' });
    code = run.code;
    expect(run.stderr).toBe('');
    report = JSON.parse(run.stdout) as CheckReport;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.dispose();
  });

  it('exits 1 when any check fails, and reports each in declaration order', () => {
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => r.name)).toContain('shared / eight');
  });

  it('judges SQL expectations', () => {
    expect(result('exactly 8 movements')).toMatchObject({ status: 'pass' });
    expect(result('wrong count')).toMatchObject({ status: 'fail', expected: 'value 9', actual: 'value 8', query: 'SELECT count(*) FROM public.movements' });
    expect(result('row count').status).toBe('pass');
    expect(result('no duplicates').status).toBe('pass');
    expect(result('ratio in range').status).toBe('pass');
    expect(result('over budget')).toMatchObject({ status: 'fail', detail: expect.stringContaining('over its latency budget') as unknown });
  });

  it('checks schema facts, RLS included', () => {
    expect(result('schema present')).toMatchObject({ status: 'pass', detail: 'all 6 present' });
    const missing = result('schema missing');
    expect(missing.status).toBe('fail');
    expect(missing.detail).toContain('table public.nope');
    expect(missing.detail).toContain('RLS policy on public.plans');
  });

  it('finds the index in the EXPLAIN plan', () => {
    expect(result('index used')).toMatchObject({ status: 'pass', detail: 'uses index movements_owner_idx' });
    expect(result('index not used').status).toBe('fail');
  });

  it('calls HTTP endpoints with variables from the environment, honouring when_flag', () => {
    expect(result('health endpoint')).toMatchObject({ status: 'pass', url: `GET ${apiUrl}/health` });
    expect(seen.find((s) => s.url === '/health')?.authorization).toBe('Bearer tok-secret-123456');
    expect(result('dashboard answers 503 while its kill switch is off')).toMatchObject({ status: 'pass', actual: 'HTTP 503' });
    expect(result('dashboard works once on')).toMatchObject({ status: 'skipped' });
    expect(result('health body breaks contract')).toMatchObject({ status: 'fail', detail: expect.stringContaining("breaks contract 'health'") as unknown });
    expect(seen.find((s) => s.url === '/broken')?.body).toBe('{"probe":true}');
    expect(result('unset variable')).toMatchObject({ status: 'error', detail: expect.stringContaining('NOT_SET_ANYWHERE is not set') as unknown });
  });

  it('reports the rows that break a contract, by key', () => {
    const rows = result('scoring payloads satisfy the contract');
    expect(rows.status).toBe('fail');
    expect(rows.violations?.map((v) => v.key)).toEqual(['p2', 'p3']);
    expect(rows.detail).toContain('2 of 3 row(s)');
  });

  it('refuses a hostile check without running it', () => {
    expect(result('hostile')).toMatchObject({ status: 'error', detail: expect.stringContaining('refused, nothing ran') as unknown });
  });

  it('runs shared checks from checks/<name>.yaml', () => {
    expect(result('shared / movements exist').status).toBe('pass');
    expect(result('shared / eight')).toMatchObject({ status: 'pass', source: 'checks/smoke.yaml' });
  });

  it('writes JUnit XML that names failures', async () => {
    const xml = await readFile(join(db.root, 'report.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="test" tests="\d+" failures="\d+" errors="\d+" skipped="1"/);
    expect(xml).toContain('<testcase name="wrong count" classname="rollout.test" file="environments/test.yaml"');
    expect(xml).toContain('<failure message="expected value 9; got value 8" type="sql">');
    expect(xml).not.toContain('tok-secret-123456');
  });

  it('refuses a broken shared file with its position, before running any check', async () => {
    await writeFile(join(db.root, 'checks', 'smoke.yaml'), '- name: x\n  sql: SELECT 1\n  expect: { rowz: 1 }\n');
    const run = await cliOn(db, ['verify', '--env', 'test', '--format', 'json'], { API_URL: apiUrl, API_TOKEN: 'tok-secret-123456' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/checks\/smoke\.yaml:3:\d+: error: .*rowz/);
    await writeFile(join(db.root, 'checks', 'smoke.yaml'), SHARED);
  });
});
