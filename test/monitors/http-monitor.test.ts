/**
 * HTTP monitors through `rollout health` (embedded, and a server with TEST_DATABASE_URL) against
 * a real HTTP server on loopback: the http check's request and judgement, measured and recorded
 * in rollout.measurements on every health run; an exit criterion like any monitor.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport, MonitorResult } from '../../actions/engine/monitors/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const HEALTH_CONTRACT = { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } };

const ENVIRONMENT = `flags:
  checkout.v2:
    value: { enabled: true }
    off_value: { enabled: false }
    rollout: { stage: canary, percent: 5 }
    exit_criteria:
      canary: [health endpoint]
monitors:
  - name: health endpoint
    http:
      url: \${API_URL}/health
      headers: { authorization: "Bearer \${API_TOKEN}" }
      contract: health
    every: 1d
  - name: degraded body
    http:
      url: \${API_URL}/degraded
      contract: health
  - name: maintenance page answers 503
    http:
      url: \${API_URL}/maintenance
      expect_status: 503
  - name: slow endpoint
    http:
      url: \${API_URL}/slow
    latency_budget: 50ms
  - name: endpoint down
    http:
      url: \${DOWN_URL}/health
  - name: not configured
    http:
      url: \${NOT_SET_ANYWHERE}/health
`;

describe.each(databaseTargets())('HTTP monitors on $name', (target) => {
  let db: TestDatabase;
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let report: HealthReport;
  let code: number;
  const authorizations: (string | undefined)[] = [];
  const result = (name: string): MonitorResult => {
    const found = report.results.find((r) => r.name === name);
    if (!found) throw new Error(`no result named ${name}`);
    return found;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/health') authorizations.push(req.headers.authorization);
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/health') answer(200, { status: 'ok' });
      else if (req.url === '/degraded') answer(200, { status: 'degraded' });
      else if (req.url === '/maintenance') answer(503, { detail: 'maintenance' });
      else if (req.url === '/slow') setTimeout(() => answer(200, {}), 300);
      else answer(404, {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // A port nothing listens on: opened, then closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const downPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    env = { API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, API_TOKEN: 'tok-secret-123456', DOWN_URL: `http://127.0.0.1:${downPort}` };

    db = await target.create();
    await writeEnvironment(db, ENVIRONMENT);
    await mkdir(join(db.root, 'contracts'), { recursive: true });
    await writeFile(join(db.root, 'contracts', 'health.schema.json'), JSON.stringify(HEALTH_CONTRACT));
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json'], env);
    expect(run.stderr).toBe('');
    code = run.code;
    report = JSON.parse(run.stdout) as HealthReport;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.dispose();
  });

  it('is healthy when the endpoint answers as expected, sending the headers, its status the measurement', () => {
    expect(result('health endpoint')).toMatchObject({ kind: 'http', status: 'healthy', value: 200, flags: ['checkout.v2'] });
    expect(result('health endpoint').detail).toBe(`GET ${env.API_URL}/health: HTTP 200, body satisfies health`);
    expect(authorizations).toEqual(['Bearer tok-secret-123456']);
    expect(result('maintenance page answers 503')).toMatchObject({ status: 'healthy', value: 503 });
  });

  it('breaches on a body that breaks its contract, an answer over budget, and no answer at all', () => {
    expect(result('degraded body')).toMatchObject({ status: 'breach', value: 200, detail: expect.stringContaining("the body breaks contract 'health'") as unknown });
    expect(result('slow endpoint')).toMatchObject({ status: 'breach', value: 200, detail: expect.stringContaining('over its latency budget of 50 ms') as unknown });
    const down = result('endpoint down');
    expect(down).toMatchObject({ status: 'breach', detail: expect.stringContaining('no answer (request failed: ECONNREFUSED)') as unknown });
    expect(down.value).toBeUndefined();
    expect(code).toBe(1);
  });

  it('is unknown when the request cannot be made, naming what is missing', () => {
    expect(result('not configured')).toMatchObject({ status: 'unknown', detail: expect.stringContaining('environment variable NOT_SET_ANYWHERE is not set') as unknown });
  });

  it('records every result in rollout.measurements, with the flags it is an exit criterion of; the token is never stored', async () => {
    const rows = await sql<{ monitor: string; verdict: string; value: number | null; flags: string[]; detail: string }>(
      db,
      'SELECT monitor, verdict, value::float AS value, flags, detail FROM rollout.measurements ORDER BY id',
    );
    expect(rows.map(({ monitor, verdict, value, flags }) => ({ monitor, verdict, value, flags }))).toEqual([
      { monitor: 'health endpoint', verdict: 'healthy', value: 200, flags: ['checkout.v2'] },
      { monitor: 'degraded body', verdict: 'breach', value: 200, flags: [] },
      { monitor: 'maintenance page answers 503', verdict: 'healthy', value: 503, flags: [] },
      { monitor: 'slow endpoint', verdict: 'breach', value: 200, flags: [] },
      { monitor: 'endpoint down', verdict: 'breach', value: null, flags: [] },
      { monitor: 'not configured', verdict: 'unknown', value: null, flags: [] },
    ]);
    expect(rows.map((r) => r.detail).join('\n')).not.toContain('tok-secret-123456');
  });
});
