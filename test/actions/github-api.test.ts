/**
 * The bundled entries that talk to GitHub, as processes, against Prism mocking api.github.com
 * from GitHub's own OpenAPI description (@octokit/openapi) with request validation on: a
 * request the description does not allow gets a 422, so the entry fails and so does the test.
 * The database ones run on the TEST_DATABASE_URL server and are skipped without it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeRun, exampleRepository, expectGolden, runEntry, serverDatabase, startMockGitHub, webhookPayload, type MockGitHub } from './support.ts';

const serverUrl = process.env.TEST_DATABASE_URL;

describe('actions against a mock GitHub API (Prism, OpenAPI-validated)', () => {
  let github: MockGitHub;
  let repo: { root: string; dispose(): Promise<void> };
  beforeAll(async () => {
    github = await startMockGitHub();
  }, 240_000);
  afterAll(() => github?.stop());
  beforeEach(async () => {
    repo = await exampleRepository();
  });
  afterEach(async () => {
    await repo.dispose();
    expect(github.violations()).toEqual([]);
  });

  it('apply records a deployment and marks it errored when the database cannot be reached', async () => {
    const before = github.requests().length;
    const run = await runEntry('apply', { workspace: repo.root, apiUrl: github.url, inputs: { environment: 'staging', deployment: 'true', verify: 'true' }, event: { name: 'push', payload: webhookPayload('push') } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error::Environment variable STAGING_DATABASE_URL is not set.');
    expect(github.requests().slice(before)).toEqual([
      'POST /repos/Codertocat/Hello-World/deployments',
      expect.stringMatching(/^POST \/repos\/Codertocat\/Hello-World\/deployments\/\d+\/statuses$/),
      expect.stringMatching(/^POST \/repos\/Codertocat\/Hello-World\/deployments\/\d+\/statuses$/),
    ]);
  });

  describe.skipIf(!serverUrl)('on a database server', () => {
    let staging: { url: string; dispose(): Promise<void> };
    let production: { url: string; dispose(): Promise<void> };
    let env: Record<string, string>;
    beforeEach(async () => {
      staging = await serverDatabase(serverUrl!);
      production = await serverDatabase(serverUrl!);
      env = { STAGING_DATABASE_URL: staging.url, PRODUCTION_DATABASE_URL: production.url };
    });
    afterEach(async () => {
      await staging.dispose();
      await production.dispose();
    });
    const names = (): Record<string, string> => ({ [staging.url]: '<staging-url>', [production.url]: '<production-url>', [repo.root]: '<repo>' });

    it('plan on a pull request: job summary, sticky comment (every page read, then created or updated), plan-hash output', async () => {
      const before = github.requests().length;
      const run = await runEntry('plan', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging' }, event: { name: 'pull_request', payload: webhookPayload('pull_request', 'opened') } });
      expect(run.stderr).toBe('');
      expect(run.outputs['plan-hash'], run.stdout).toMatch(/^[0-9a-f]{64}$/);
      const requests = github.requests().slice(before);
      expect(requests[0]).toBe('GET /repos/Codertocat/Hello-World/issues/2/comments');
      // Prism's example comment has no marker: the comment is created.
      expect(requests.at(-1)).toBe('POST /repos/Codertocat/Hello-World/issues/2/comments');
      expectGolden('plan-pull-request', describeRun(run, names()));
    });

    it('apply then verify: deployment statuses, ledger output, check report; a stale plan hash is refused', async () => {
      const planned = await runEntry('plan', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging', comment: 'false' }, event: { name: 'push', payload: webhookPayload('push') } });
      const applied = await runEntry('apply', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging', 'plan-hash': planned.outputs['plan-hash'] }, event: { name: 'push', payload: webhookPayload('push') } });
      expect(applied.stderr).toBe('');
      expect(applied.outputs.changed, applied.stdout).toBe('true');
      expectGolden('apply-staging', describeRun(applied, names()));
      const verified = await runEntry('verify', { workspace: repo.root, env, inputs: { environment: 'staging' } });
      expect(verified.outputs.ok).toBe('true');
      expectGolden('verify-staging', describeRun(verified, names()));
      const stale = await runEntry('apply', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging', 'plan-hash': planned.outputs['plan-hash'], deployment: 'false' } });
      expect(stale.code).toBe(1);
      expect(stale.stdout).toMatch(/::error::the reviewed plan \([0-9a-f]{12}\) no longer matches staging/);
    });

    it('health: healthy environment closes nothing it did not open; break-glass sets the switch and opens the PR recording it', async () => {
      await runEntry('apply', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging', deployment: 'false' } });
      const healthy = await runEntry('health', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging' }, event: { name: 'schedule', payload: {} } });
      expect(healthy.stderr).toBe('');
      expectGolden('health-staging', describeRun(healthy, names()));
      const before = github.requests().length;
      const killed = await runEntry('health', {
        workspace: repo.root,
        apiUrl: github.url,
        env,
        inputs: { environment: 'staging', 'kill-switch': 'global.safe_mode', reason: 'burn rate 4.2 on checkout' },
        event: { name: 'workflow_dispatch', payload: webhookPayload('workflow_dispatch') },
      });
      expect(killed.stderr).toBe('');
      expect(killed.outputs.status, killed.stdout).toBe('break-glass');
      expect(github.requests().slice(before)).toEqual(
        // The branch from main, the edited file on it, then the PR (found among open ones, or created).
        expect.arrayContaining(['GET /repos/octo-org/octo-repo/git/ref/heads%2Fmain', 'POST /repos/octo-org/octo-repo/git/refs', 'PUT /repos/octo-org/octo-repo/contents/environments%2Fstaging.yaml']),
      );
      expectGolden('health-break-glass', describeRun(killed, names()));
    });

    it('promote: opens or updates the promotion PR with the production plan', async () => {
      await runEntry('apply', { workspace: repo.root, apiUrl: github.url, env, inputs: { environment: 'staging', deployment: 'false' } });
      const run = await runEntry('promote', { workspace: repo.root, apiUrl: github.url, env: { ...env, ROLLOUT_NOW: '2026-12-25T12:00:00Z' }, inputs: { from: 'staging' }, event: { name: 'workflow_run', payload: webhookPayload('workflow_run', 'completed') } });
      expect(run.stderr).toBe('');
      expectGolden('promote-staging', describeRun(run, names()));
    });
  });
});
