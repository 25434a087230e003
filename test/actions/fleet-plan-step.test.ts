/**
 * The plan action on a fleet: one plan for every target, rendered once and published twice
 * (job summary and one sticky PR comment for the environment), with the fleet plan hash as the
 * plan-hash output. Hand-written fakes of our own ports (runtime, SCM client); the targets are
 * real databases — embedded data directories always, and server databases with TEST_DATABASE_URL.
 * The actions that act on one database refuse a fleet at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { planFleet } from '../../actions/engine/fleet/plan.ts';
import { secretScrubber } from '../../actions/engine/secrets.ts';
import { planMarker } from '../../actions/github/comment.ts';
import type { HealthInputs, PlanInputs, RunContext } from '../../actions/github/inputs.ts';
import { planStep } from '../../actions/github/plan.ts';
import { applyStep } from '../../actions/github/apply.ts';
import { verifyStep } from '../../actions/github/verify.ts';
import { healthStep } from '../../actions/github/health.ts';
import type { Runtime } from '../../actions/github/runtime.ts';
import type { ScmClient } from '../../actions/github/scm.ts';
import { embeddedFleet, serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from '../fleet/support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const FILES = {
  'migrations/001_items.sql': 'CREATE TABLE public.items (id bigint PRIMARY KEY);\n',
};
const FLAGS = 'flags:\n  feature.x: { value: true }\n';

/** What a step published: the job summary and the PR comments, through fakes of our ports. */
function fakes(processEnv: NodeJS.ProcessEnv) {
  const published = { summaries: [] as string[], comments: [] as Array<{ issue: number; marker: string; body: string }> };
  const runtime: Runtime = {
    setOutput: () => undefined,
    info: () => undefined,
    warning: () => undefined,
    command: () => undefined,
    summary: (markdown) => Promise.resolve(void published.summaries.push(markdown)),
    setFailed: () => undefined,
    scrub: secretScrubber(processEnv),
  };
  const scm = (): ScmClient =>
    ({
      upsertComment: (issue: number, marker: string, body: string) => {
        published.comments.push({ issue, marker, body });
        return Promise.resolve({ id: 41, action: 'created' as const });
      },
    }) as unknown as ScmClient;
  return { published, runtime, scm };
}

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
const inputsFor = (root: string, overrides: Partial<PlanInputs> = {}): PlanInputs => ({
  root,
  environment: 'tenants',
  githubToken: 'ghs_testtoken000000000000000000000000000',
  comment: true,
  databaseUrl: null,
  upstreamDatabaseUrl: null,
  context,
  ...overrides,
});

describe('the plan action on an embedded fleet', () => {
  let fleet: TestFleet & { dirs: string[] };
  beforeAll(async () => {
    fleet = await embeddedFleet(2);
    await writeRepository(fleet.root, {
      ...FILES,
      'environments/tenants.yaml': `version: 1\ntargets:\n${fleet.names.map((n, i) => `  - { name: ${n}, embedded: ${fleet.dirs[i]} }`).join('\n')}\n${FLAGS}`,
    });
  }, 120_000);
  afterAll(() => fleet?.dispose());

  it('one sticky comment and one job summary, the same text: the targets as one group; the fleet hash as plan-hash', async () => {
    const { published, runtime, scm } = fakes({});
    const result = await planStep(inputsFor(fleet.root), {}, runtime, scm);
    expect(published.comments).toHaveLength(1);
    const [comment] = published.comments;
    expect(comment).toMatchObject({ issue: 7, marker: planMarker('tenants') });
    expect(published.summaries).toEqual([expect.stringContaining('### rollout plan for fleet `tenants`')]);
    expect(comment.body).toContain(published.summaries[0]);
    expect(comment.body).toContain('2 targets: 1 migration to apply, 1 flag to add.');
    expect(comment.body).toContain('<details><summary>Every target</summary>');
    expect(result).toMatchObject({ summary: '2 targets: 1 migration to apply, 1 flag to add.', hasChanges: true, cannotApply: null, commentId: 41 });
    // The hash apply --plan-hash checks: the fleet plan's, over every target.
    const { environment } = loadEnvironment(fleet.root, 'tenants');
    expect(result.hash).toBe((await planFleet({ root: fleet.root, env: environment, processEnv: {}, commit: context.sha })).hash);
  }, 120_000);

  it('the apply, verify and health actions refuse a fleet before any GitHub call or connection, naming the fleet action', async () => {
    const { runtime } = fakes({});
    const noGitHub = (): ScmClient => {
      throw new Error('no deployment, issue or comment before the refusal');
    };
    const base = { root: fleet.root, environment: 'tenants', databaseUrl: null, upstreamDatabaseUrl: null, context };
    const steps = {
      apply: () => applyStep({ ...base, githubToken: 'ghs_x', planHash: null, verify: true, deployment: true, adopt: false }, {}, runtime, noGitHub),
      verify: () => verifyStep(base, {}, runtime),
      health: () => healthStep({ ...base } as unknown as HealthInputs, {}, fleet.root, runtime, noGitHub),
    };
    for (const [action, step] of Object.entries(steps)) {
      await expect(step(), action).rejects.toThrow(`tenants is a fleet (environments/tenants.yaml lists targets, not one database), and the ${action} action acts on one database. Roll a fleet out with the fleet action`);
    }
  });

  it('refuses database-url on a fleet, which has one URL per target', async () => {
    const { runtime, scm } = fakes({});
    await expect(planStep(inputsFor(fleet.root, { databaseUrl: 'postgres://db.example/one' }), {}, runtime, scm)).rejects.toThrow(/Input database-url is for an environment of one database; tenants is a fleet/);
  });
});

describe.skipIf(!SERVER)('the plan action on a server fleet with an unreachable target', () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 2);
    await writeRepository(fleet.root, {
      ...FILES,
      'environments/tenants.yaml': `version: 1\ntarget_url_env: ${URL_TEMPLATE}\ntargets: [{ name: t01 }, { name: t02 }, { name: gone }]\n${FLAGS}`,
    });
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('groups the unreachable target apart, fails the step, and prints no password', async () => {
    // The targets' URLs as a workflow hands them over: one JSON object of every secret.
    const processEnv = { ROLLOUT_TARGET_SECRETS: JSON.stringify({ ...fleet.processEnv, TENANT_GONE_URL: 'postgres://rollout:gonepassword9@127.0.0.1:1/gone' }) };
    const { published, runtime, scm } = fakes(processEnv);
    const result = await planStep(inputsFor(fleet.root), processEnv, runtime, scm);
    expect(result.summary).toBe('2 targets: 1 migration to apply, 1 flag to add; 1 target: unreachable.');
    expect(result.cannotApply).toBe(`The fleet plan for tenants cannot be applied as it stands: ${result.summary}`);
    const [comment] = published.comments;
    expect(comment.body).toContain('1 target could not be reached');
    expect(comment.body).toContain('`gone`');
    // The driver's message names the URL: masked, so the reviewer sees which one without its password.
    expect(comment.body).toContain('postgres://rollout:***@127.0.0.1:1/gone (the URL in TENANT_GONE_URL)');
    expect(comment.body).not.toContain('gonepassword9');
    expect(published.summaries[0]).not.toContain('gonepassword9');
  }, 120_000);
});
