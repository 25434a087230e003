/**
 * The GitHub steps (plan, apply, health, promote) as functions, with hand-written fakes of the
 * Runtime and ScmClient ports: which comments, deployments, issues and PRs each asks GitHub for,
 * and what a second run does with what the first left. Fast, and runnable without a server:
 * the databases are embedded always, and server databases with TEST_DATABASE_URL. The requests
 * these produce on the wire are the Prism process tests' (github-api.test.ts) concern.
 */
import { cp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withSession } from '../../actions/engine/session.ts';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { applyStep } from '../../actions/github/apply.ts';
import { healthMarker, planMarker } from '../../actions/github/comment.ts';
import { healthStep } from '../../actions/github/health.ts';
import type { ApplyInputs, HealthInputs, PlanInputs, PromoteInputs, RunContext } from '../../actions/github/inputs.ts';
import { planStep } from '../../actions/github/plan.ts';
import { promoteStep } from '../../actions/github/promote.ts';
import { recordKillSwitch, recordStageRollback } from '../../actions/github/record.ts';
import { databaseTargets, EMBEDDED_DIR, type TestDatabase } from '../support/databases.ts';
import { fakeRuntime, fakeScm, type FakeRuntime, type FakeScm } from '../support/fake-ports.ts';
import { temporaryRepositories } from '../support/repository.ts';
import { writeRepository } from '../fleet/support.ts';

const context: RunContext = {
  owner: 'octo-org',
  repo: 'octo-repo',
  sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
  ref: 'refs/pull/7/merge',
  eventName: 'pull_request',
  event: {},
  apiUrl: 'http://127.0.0.1:9',
  runUrl: 'https://github.com/octo-org/octo-repo/actions/runs/1',
  actor: 'octocat',
  pullRequest: 7,
};
const TOKEN = 'ghs_testtoken000000000000000000000000000';
const urls = { databaseUrl: null, upstreamDatabaseUrl: null };

const planInputs = (root: string, overrides: Partial<PlanInputs> = {}): PlanInputs => ({ root, environment: 'staging', githubToken: TOKEN, comment: true, context, ...urls, ...overrides });
const applyInputs = (root: string, overrides: Partial<ApplyInputs> = {}): ApplyInputs => ({
  root,
  environment: 'staging',
  githubToken: TOKEN,
  planHash: null,
  verify: true,
  deployment: true,
  adopt: false,
  context,
  ...urls,
  ...overrides,
});
const healthInputs = (root: string, overrides: Partial<HealthInputs> = {}): HealthInputs => ({
  root,
  environment: 'staging',
  githubToken: TOKEN,
  act: true,
  issue: true,
  killSwitch: null,
  reason: null,
  base: 'main',
  details: 'full',
  context,
  ...urls,
  ...overrides,
});

const MIGRATION = 'CREATE TABLE public.metric (value numeric NOT NULL);\nINSERT INTO public.metric VALUES (1);\n';

/** staging (the test database) promotes to production (a second database of the same kind). */
function files(db: TestDatabase, production: string): Record<string, string> {
  const database = db.env.database.kind === 'embedded' ? `database: { embedded: ${EMBEDDED_DIR} }` : 'database: { url_env: STAGING_DATABASE_URL }';
  return {
    'migrations/001_metric.sql': MIGRATION,
    'environments/staging.yaml': [
      'version: 1',
      database,
      'promotes_to: production',
      'flags:',
      '  global.safe_mode: { value: { enabled: false }, kill_switch: true }',
      '  feature.x: { value: true }',
      'checks:',
      '  - name: metric table exists',
      '    schema: { tables: [public.metric] }',
      'monitors:',
      '  - name: error rate',
      '    sql: SELECT value FROM public.metric',
      '    above: 2',
      '    severity: warning',
      '    on_breach: report',
      '',
    ].join('\n'),
    'environments/production.yaml': ['version: 1', production, 'flags:', '  global.safe_mode: { value: { enabled: false }, kill_switch: true }', ''].join('\n'),
  };
}

describe.each(databaseTargets())('the GitHub steps through fake ports, on $name', (target) => {
  let staging: TestDatabase;
  let production: TestDatabase | undefined;
  let processEnv: NodeJS.ProcessEnv;
  let runtime: FakeRuntime;
  let scm: FakeScm;
  beforeEach(async () => {
    staging = await target.create();
    let productionDatabase: string;
    if (staging.env.database.kind === 'embedded') {
      // A second data directory beside the first: two embedded databases in one repository.
      await cp(join(staging.root, EMBEDDED_DIR), join(staging.root, '.rollout/production'), { recursive: true });
      productionDatabase = 'database: { embedded: .rollout/production }';
      processEnv = {};
    } else {
      production = await target.create();
      productionDatabase = 'database: { url_env: PRODUCTION_DATABASE_URL }';
      processEnv = { STAGING_DATABASE_URL: staging.url, PRODUCTION_DATABASE_URL: production.url };
    }
    await writeRepository(staging.root, files(staging, productionDatabase));
    runtime = fakeRuntime(processEnv);
    scm = fakeScm();
  }, 60_000);
  afterEach(async () => {
    await staging.dispose();
    await production?.dispose();
    production = undefined;
  });
  const scmPort = () => scm;

  async function setMetric(value: number): Promise<void> {
    const { environment } = loadEnvironment(staging.root, 'staging');
    await withSession(environment, { root: staging.root, processEnv, lock: false }, async ({ client }) => {
      await client.query('UPDATE public.metric SET value = $1', [value]);
    });
  }

  it('plan: one sticky comment per environment, created then updated in place; the summary is the comment without its marker', async () => {
    const first = await planStep(planInputs(staging.root), processEnv, runtime, scmPort);
    expect(first).toMatchObject({ hasChanges: true, cannotApply: null });
    expect(first.summary).toContain('1 migration to apply');
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(scm.comments).toHaveLength(1);
    const [comment] = scm.comments;
    expect(comment.issue).toBe(7);
    expect(first.commentId).toBe(comment.id);
    expect(comment.body).toBe(`${planMarker('staging')}\n${runtime.summaries[0]}`);
    expect(runtime.infos).toContain('Posted the plan comment for staging on #7.');

    const again = await planStep(planInputs(staging.root), processEnv, runtime, scmPort);
    expect(again.commentId).toBe(comment.id);
    expect(scm.comments).toHaveLength(1);
    expect(runtime.infos).toContain('Updated the plan comment for staging on #7.');
  }, 60_000);

  it('plan: no comment with comment: false, nor on a run without a pull request; the summary is still written', async () => {
    await planStep(planInputs(staging.root, { comment: false }), processEnv, runtime, scmPort);
    await planStep(planInputs(staging.root, { context: { ...context, pullRequest: null } }), processEnv, runtime, scmPort);
    expect(scm.calls).toEqual([]);
    expect(runtime.summaries).toHaveLength(2);
  }, 60_000);

  it('apply: a deployment (not production for an environment that promotes on), in_progress then success naming the plan and the ledger head', async () => {
    const planned = await planStep(planInputs(staging.root, { comment: false }), processEnv, runtime, scmPort);
    const applied = await applyStep(applyInputs(staging.root, { planHash: planned.hash }), processEnv, runtime, scmPort);
    expect(applied.ok).toBe(true);
    expect(scm.deployments).toHaveLength(1);
    const [deployment] = scm.deployments;
    expect(deployment).toMatchObject({ id: applied.deploymentId, ref: context.sha, environment: 'staging', production: false, description: 'rollout apply staging' });
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment.statuses[1].description).toMatch(new RegExp(`^applied plan ${planned.hash.slice(0, 12)}; ledger head #\\d+ [0-9a-f]{16}$`));
    expect(deployment.statuses.every((s) => s.logUrl === context.runUrl)).toBe(true);
    expect(runtime.summaries.at(-1)).toContain('### rollout apply `staging`: applied');
  }, 60_000);

  it('apply: a stale plan hash marks the deployment errored and fails the step; deployment: false asks GitHub for nothing', async () => {
    await expect(applyStep(applyInputs(staging.root, { planHash: 'f'.repeat(64) }), processEnv, runtime, scmPort)).rejects.toThrow(/no longer matches staging/);
    expect(scm.deployments[0].statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
    expect(scm.deployments[0].statuses[1].description).toBe('apply failed; see the run log');

    const quiet = fakeScm();
    await applyStep(applyInputs(staging.root, { deployment: false }), processEnv, runtime, () => quiet);
    expect(quiet.calls).toEqual([]);
  }, 60_000);

  it('apply: when GitHub refuses the error status too, the apply error is what fails the step and the refusal is a warning', async () => {
    const planned = await applyStep(applyInputs(staging.root, { deployment: false }), processEnv, runtime, scmPort);
    expect(planned.ok).toBe(true);
    let statuses = 0;
    const flaky: FakeScm = fakeScm();
    const setStatus = flaky.setDeploymentStatus.bind(flaky);
    flaky.setDeploymentStatus = (id, state, input) => (++statuses === 2 ? Promise.reject(new Error('HTTP 502')) : setStatus(id, state, input));
    await expect(applyStep(applyInputs(staging.root, { planHash: '0'.repeat(64) }), processEnv, runtime, () => flaky)).rejects.toThrow(/no longer matches staging/);
    expect(runtime.warnings).toContainEqual(expect.stringMatching(/^Could not mark deployment \d+ as failed: Error: HTTP 502$/));
  }, 60_000);

  it('health: a breach opens one issue, a second breach updates it, and healthy again closes it with a comment', async () => {
    await applyStep(applyInputs(staging.root, { deployment: false }), processEnv, runtime, scmPort);
    await setMetric(5);
    const breach = await healthStep(healthInputs(staging.root), processEnv, staging.root, runtime, scmPort);
    expect(breach.verdict).toBe('breach');
    expect(scm.issues).toHaveLength(1);
    const [issue] = scm.issues;
    expect(breach.issue).toBe(issue.number);
    expect(issue).toMatchObject({ title: 'rollout: staging breaches its monitors', labels: ['rollout-health'], state: 'open' });
    expect(issue.body.startsWith(`${healthMarker('staging')}\n`)).toBe(true);
    // details: full shows the measurement.
    expect(issue.body).toContain('error rate');
    expect(issue.body).toContain(`[The run that found it](${context.runUrl})`);

    await setMetric(6);
    const still = await healthStep(healthInputs(staging.root), processEnv, staging.root, runtime, scmPort);
    expect(still.issue).toBe(issue.number);
    expect(scm.issues).toHaveLength(1);
    expect(runtime.infos).toContain(`Updated issue #${issue.number} for staging.`);

    await setMetric(1);
    const healthy = await healthStep(healthInputs(staging.root), processEnv, staging.root, runtime, scmPort);
    expect(healthy).toMatchObject({ verdict: 'healthy', issue: issue.number });
    expect(issue.state).toBe('closed');
    expect(issue.comments).toEqual([`staging is healthy again and matches Git ([run](${context.runUrl})): closing.`]);
    // Healthy with no open issue: nothing to close.
    expect((await healthStep(healthInputs(staging.root), processEnv, staging.root, runtime, scmPort)).issue).toBeNull();
  }, 120_000);

  it('health on a public repository leaves the measurements out, asking GitHub only when the event does not say', async () => {
    await applyStep(applyInputs(staging.root, { deployment: false }), processEnv, runtime, scmPort);
    await setMetric(5);
    scm.visibility = 'public';
    await healthStep(healthInputs(staging.root, { details: 'auto' }), processEnv, staging.root, runtime, scmPort);
    expect(scm.calls).toContain('repositoryVisibility');
    expect(scm.issues[0].body).toContain('Measurements are left out');

    const told = fakeScm();
    await healthStep(healthInputs(staging.root, { details: 'auto', context: { ...context, event: { repository: { private: true } } } }), processEnv, staging.root, runtime, () => told);
    expect(told.calls).not.toContain('repositoryVisibility');
    expect(told.issues[0].body).not.toContain('Measurements are left out');

    // Visibility unknown: measurements left out, with a warning that says how to show them.
    const failing = fakeScm();
    failing.failing.repositoryVisibility = new Error('HTTP 403');
    await healthStep(healthInputs(staging.root, { details: 'auto' }), processEnv, staging.root, runtime, () => failing);
    expect(failing.issues[0].body).toContain('Measurements are left out');
    expect(runtime.warnings).toContainEqual(expect.stringContaining('Could not tell whether the repository is public (HTTP 403)'));
  }, 120_000);

  it('health break-glass: sets the kill switch and opens the PR that writes it to the file', async () => {
    await applyStep(applyInputs(staging.root, { deployment: false }), processEnv, runtime, scmPort);
    const result = await healthStep(healthInputs(staging.root, { killSwitch: 'global.safe_mode', reason: 'burn rate 4x' }), processEnv, staging.root, runtime, scmPort);
    expect(result.verdict).toBe('break-glass');
    expect(scm.pullRequests).toHaveLength(1);
    const [pr] = scm.pullRequests;
    expect(result.pullRequests).toEqual([pr.number]);
    expect(pr).toMatchObject({ base: 'main', title: 'break-glass: global.safe_mode = {"enabled":true} in staging' });
    expect(pr.files.map((f) => f.path)).toEqual(['environments/staging.yaml']);
    expect(pr.files[0].content).toContain('global.safe_mode: { value: { enabled: true }, kill_switch: true }');
    expect(pr.body).toContain('- why: burn rate 4x');
  }, 60_000);

  it('promote: one PR carrying what staging applied to production, updated (not duplicated) on the next run; none when production matches', async () => {
    await applyStep(applyInputs(staging.root, { deployment: false }), processEnv, runtime, scmPort);
    const promoteInputs: PromoteInputs = { root: staging.root, databaseUrl: null, targetDatabaseUrl: null, from: 'staging', to: null, githubToken: TOKEN, base: 'main', context };
    const first = await promoteStep(promoteInputs, processEnv, staging.root, runtime, scmPort);
    expect(scm.pullRequests).toHaveLength(1);
    const [pr] = scm.pullRequests;
    expect(first.pullRequest).toBe(pr.number);
    expect(pr.branch).toBe('rollout/promote-production');
    expect(pr.files).toEqual([{ path: 'environments/production.yaml', content: first.result?.after }]);
    expect(pr.files[0].content).toContain('feature.x');
    expect(pr.message).toContain('Generated by rollout promote --from staging --to production.');

    await promoteStep(promoteInputs, processEnv, staging.root, runtime, scmPort);
    expect(scm.pullRequests).toHaveLength(1);

    // The PR merged: production's file says what staging has, so there is nothing to promote.
    await writeRepository(staging.root, { 'environments/production.yaml': pr.files[0].content });
    const merged = fakeScm();
    const none = await promoteStep(promoteInputs, processEnv, staging.root, runtime, () => merged);
    expect(none.pullRequest).toBeNull();
    expect(merged.calls).toEqual([]);
    expect(runtime.infos).toContain('production already matches what staging has soaked: no promotion PR.');
  }, 120_000);
});

describe('the records health opens as PRs (no database)', () => {
  const repo = temporaryRepositories('rollout-records-');
  const FILE = 'version: 1\ndatabase: { embedded: .rollout/db }\nflags:\n  global.safe_mode: { value: { enabled: false }, kill_switch: true }\n  feature.y:\n    value: true\n    rollout: { stage: canary, percent: 25 }\n';

  it('a kill switch PR edits only the switch, on one branch per environment and flag, so a second trip updates it', async () => {
    const root = repo({ 'environments/staging.yaml': FILE });
    const scm = fakeScm();
    const record = { environment: 'staging', file: 'environments/staging.yaml', flag: 'global.safe_mode', value: { enabled: true }, reason: 'line one\nline two', ledgerId: 12, trigger: 'monitor: burn' };
    const first = await recordKillSwitch(scm, { root, workspace: root, base: 'main', runUrl: context.runUrl, record });
    const second = await recordKillSwitch(scm, { root, workspace: root, base: 'main', runUrl: context.runUrl, record });
    expect(second).toBe(first);
    expect(scm.pullRequests).toHaveLength(1);
    const [pr] = scm.pullRequests;
    expect(pr.files).toEqual([{ path: 'environments/staging.yaml', content: FILE.replace('{ enabled: false }', '{ enabled: true }') }]);
    expect(pr.body).toContain('(ledger entry #12)');
    // A reason of several lines stays one list item.
    expect(pr.body).toContain('- why: line one line two');
    expect(readFileSync(join(root, 'environments/staging.yaml'), 'utf8')).toBe(FILE);
  });

  it('a stage rollback PR moves the flag where health moved it, with the path relative to the workspace', async () => {
    const workspace = repo({ 'deploy/environments/staging.yaml': FILE });
    const scm = fakeScm();
    const record = { environment: 'staging', file: 'environments/staging.yaml', flag: 'feature.y', from: { stage: 'canary' as const, percent: 25 }, to: { stage: 'canary' as const, percent: 5 }, reason: 'error rate 9%', ledgerId: null };
    await recordStageRollback(scm, { root: join(workspace, 'deploy'), workspace, base: 'main', runUrl: context.runUrl, record });
    const [pr] = scm.pullRequests;
    expect(pr.title).toBe('auto-rollback: feature.y canary 25% → canary 5% in staging');
    expect(pr.files).toEqual([{ path: 'deploy/environments/staging.yaml', content: FILE.replace('percent: 25', 'percent: 5') }]);
    expect(pr.body).not.toContain('ledger entry');
    await rm(workspace, { recursive: true, force: true });
  });
});
