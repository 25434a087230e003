/**
 * Breach actions beyond flags: repository_dispatch and workflow_dispatch against Prism (GitHub's
 * OpenAPI description, request validation on: a request it does not allow fails), and a webhook
 * against a loopback HTTP server. A failing action is reported with the breach, never instead of it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runExternalAction, type BreachPayload } from '../../actions/engine/monitors/breach-actions.ts';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';
import { startMockGitHub, type MockGitHub } from '../actions/support.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { sql } from '../support/sql.ts';

const PAYLOAD: BreachPayload = {
  environment: 'staging',
  monitor: 'queue p95 age',
  severity: 'critical',
  verdict: 'breach',
  value: 412,
  detail: '412 is above 300',
  at: '2026-11-20T13:05:00.000Z',
  flags: ['ranker.policy'],
  rolledBack: ['ranker.policy'],
};

interface Hook {
  url: string;
  received: Array<{ headers: IncomingMessage['headers']; body: unknown }>;
  status: number;
  close(): Promise<void>;
}

async function startHook(): Promise<Hook> {
  const hook: Hook = { url: '', received: [], status: 204, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      hook.received.push({ headers: req.headers, body: JSON.parse(text) as unknown });
      res.writeHead(hook.status).end(hook.status >= 400 ? 'pager is down' : '');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const address = server.address();
  hook.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/page/secret-token-123`;
  hook.close = () => new Promise<void>((done) => server.close(() => done()));
  return hook;
}

describe('breach actions against real servers', () => {
  let github: MockGitHub;
  let hook: Hook;
  beforeAll(async () => {
    [github, hook] = await Promise.all([startMockGitHub(), startHook()]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all([github?.stop(), hook?.close()]);
  });
  /** Violations a test provoked on purpose (GitHub refusing a request is what it checks). */
  const provoked = new Set<string>();
  afterEach(() => {
    expect(github.violations().filter((v) => !provoked.has(v))).toEqual([]);
    hook.status = 204;
  });
  const options = (processEnv: NodeJS.ProcessEnv = {}) => ({ processEnv: { PAGER_URL: hook.url, ...processEnv }, github: { apiUrl: github.url, repository: 'acme/checkout', token: 'ghs_test' }, act: true });

  it('repository_dispatch: the measurement is the client_payload, accepted by GitHub\'s description', async () => {
    const before = github.requests().length;
    const done = await runExternalAction({ dispatch: { event_type: 'scale-workers' } }, PAYLOAD, options());
    expect(done).toEqual({ kind: 'dispatch', target: 'repository_dispatch scale-workers in acme/checkout', outcome: 'sent' });
    expect(github.requests().slice(before)).toEqual(['POST /repos/acme/checkout/dispatches']);
  });

  it('workflow_dispatch: the declared inputs, and the measurement as JSON in the one named', async () => {
    const before = github.requests().length;
    const done = await runExternalAction(
      { dispatch: { workflow: 'rollback.yml', ref: 'main', repository: 'acme/ops', inputs: { service: 'checkout' }, measurement_input: 'measurement' } },
      PAYLOAD,
      options(),
    );
    expect(done).toMatchObject({ outcome: 'sent', target: 'workflow_dispatch rollback.yml in acme/ops' });
    expect(github.requests().slice(before)).toEqual(['POST /repos/acme/ops/actions/workflows/rollback.yml/dispatches']);
  });

  it('a dispatch without a token, or that GitHub refuses, is reported as failed', async () => {
    expect(await runExternalAction({ dispatch: { event_type: 'x', token_env: 'OPS_TOKEN' } }, PAYLOAD, options())).toMatchObject({
      outcome: 'failed',
      message: 'no GitHub token: set OPS_TOKEN (a token that may dispatch to acme/checkout).',
    });
    // An event type longer than the description allows (100 characters) is a request GitHub refuses.
    const refused = await runExternalAction({ dispatch: { event_type: 'x'.repeat(101) } }, PAYLOAD, options());
    expect(refused).toMatchObject({ outcome: 'failed', message: expect.stringMatching(/^HTTP 422/) as unknown });
    const violation = 'POST /repos/acme/checkout/dispatches: request.body.event_type: Request body property event_type must NOT have more than 100 characters';
    expect(github.violations()).toContain(violation);
    provoked.add(violation);
  });

  it('webhook: a POST of the measurement as JSON; a failing hook is reported without its URL', async () => {
    const sent = await runExternalAction({ webhook: { url_env: 'PAGER_URL' } }, PAYLOAD, options());
    expect(sent).toEqual({ kind: 'webhook', target: 'webhook PAGER_URL', outcome: 'sent' });
    expect(hook.received.at(-1)).toMatchObject({ headers: { 'content-type': 'application/json' }, body: { event: 'rollout.breach', ...PAYLOAD } });
    hook.status = 503;
    const failed = await runExternalAction({ webhook: { url_env: 'PAGER_URL' } }, PAYLOAD, options());
    expect(failed).toEqual({ kind: 'webhook', target: 'webhook PAGER_URL', outcome: 'failed', message: 'HTTP 503: pager is down' });
    const unset = await runExternalAction({ webhook: { url_env: 'NOPE_URL' } }, PAYLOAD, options());
    expect(unset).toMatchObject({ outcome: 'failed', message: 'NOPE_URL is not set: give the run the webhook URL under that name (a secret).' });
    const refused = await runExternalAction({ webhook: { url_env: 'PAGER_URL' } }, PAYLOAD, options({ PAGER_URL: 'http://127.0.0.1:1/secret-token-123' }));
    expect(refused.outcome).toBe('failed');
    expect(JSON.stringify(refused)).not.toContain('secret-token-123');
  });

  describe.each(databaseTargets())('rollout health on $name', (target) => {
    let db: TestDatabase;
    beforeEach(async () => {
      db = await target.create();
      await writeEnvironment(db, `flags:
  ranker.policy:
    value: { epsilon: 0.1 }
    off_value: { epsilon: 0 }
    rollout: { stage: canary, percent: 25 }
    exit_criteria: { canary: [queue p95 age] }
monitors:
  - name: queue p95 age
    sql: SELECT age FROM queue_age
    above: 300
    severity: critical
    on_breach: [{ dispatch: { event_type: scale-workers } }, { webhook: { url_env: PAGER_URL } }]
`);
      await writeFile(join(db.root, 'migrations', '0001_queue.sql'), 'CREATE TABLE queue_age (age numeric); INSERT INTO queue_age VALUES (412);');
      expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    });
    afterEach(() => db.dispose());

    it('rolls back, dispatches and pages with the measurement; a failed page is shown, the breach stays the verdict', async () => {
      hook.status = 500;
      const pages = hook.received.length;
      const before = github.requests().length;
      const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json'], { PAGER_URL: hook.url, GITHUB_API_URL: github.url, GITHUB_TOKEN: 'ghs_test', GITHUB_REPOSITORY: 'acme/checkout' });
      expect(run.code).toBe(1);
      const result = (JSON.parse(run.stdout) as HealthReport).results[0];
      expect(result.actions?.map((a) => [a.kind, 'outcome' in a ? a.outcome : undefined])).toEqual([
        ['report', undefined],
        ['stage_rollback', 'rolled back'],
        ['dispatch', 'sent'],
        ['webhook', 'failed'],
      ]);
      expect(run.stdout).not.toContain(hook.url);
      expect(github.requests().slice(before)).toEqual(['POST /repos/acme/checkout/dispatches']);
      expect(hook.received.slice(pages).map((r) => r.body)).toEqual([
        expect.objectContaining({ environment: 'test', monitor: 'queue p95 age', value: 412, verdict: 'breach', flags: ['ranker.policy'], rolledBack: ['ranker.policy'] }),
      ]);
      expect(await sql(db, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'ranker.policy'")).toEqual([{ stage: 'canary', percent: 5 }]);
      const text = await cliOn(db, ['health', '--env', 'test', '--no-act'], { PAGER_URL: hook.url });
      expect(text.stdout).toContain('would move ranker.policy canary 5% → shadow (dry run)');
      expect(text.stdout).toContain('would send webhook PAGER_URL (dry run)');
    });
  });
});
