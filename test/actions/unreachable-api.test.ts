/** Issue 13, defect 6: an action that cannot reach the GitHub API says so; it is not "a bug in rollout". */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { exampleRepository, freePort, runEntry, webhookPayload } from './support.ts';

let repo: { root: string; dispose(): Promise<void> };
beforeEach(async () => {
  repo = await exampleRepository();
});
afterEach(() => repo.dispose());

it('apply with deployments on, GitHub API unreachable: a clear failure naming the API and what to check', { timeout: 60_000 }, async () => {
  const port = await freePort(); // nothing listens there
  const run = await runEntry('apply', { workspace: repo.root, apiUrl: `http://127.0.0.1:${port}`, inputs: { environment: 'staging', deployment: 'true' }, event: { name: 'push', payload: webhookPayload('push') } });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/::error::could not reach the GitHub API at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*Check the runner's network/);
  expect(run.stdout + run.stderr).not.toContain('internal error');
});
