/**
 * promotes_to naming several environments in the workflows: one promotion per downstream in the
 * validate action's matrix (the promote workflow runs a job each, passing to:), and a promote
 * step that is not told which downstream refuses rather than promote to the first one only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import type { RunContext } from '../../actions/github/inputs.ts';
import { promoteStep } from '../../actions/github/promote.ts';
import type { Runtime } from '../../actions/github/runtime.ts';
import type { ScmClient } from '../../actions/github/scm.ts';
import { promotionTargets, targetMatrices, workflowTargets } from '../../actions/github/validate.ts';
import { writeRepository } from '../fleet/support.ts';
import { parseWorkflow } from './workflow-rules.ts';
import { readFileSync } from 'node:fs';
import { ROOT } from './support.ts';

const file = (name: string, promotesTo?: string): string =>
  `version: 1\ndatabase: { url_env: ${name.toUpperCase().replace('-', '_')}_URL, readonly_url_env: ${name.toUpperCase().replace('-', '_')}_READONLY_URL }\n${promotesTo ? `promotes_to: ${promotesTo}\n` : ''}flags:\n  feature.x: { value: true }\n`;

describe('promotes_to naming several environments, in the workflows', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-promotions-'));
    await writeRepository(root, {
      'environments/staging.yaml': file('staging', '[prod-eu, prod-us]'),
      'environments/prod-eu.yaml': file('prod-eu'),
      'environments/prod-us.yaml': file('prod-us'),
    });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  const environments = () => [...loadRepository(root).files.values()].flatMap((f) => (f.environment ? [f.environment] : []));

  it('one promotion per downstream, each with the secrets of its own database; every downstream has staging as its upstream', () => {
    const promotions = promotionTargets(environments());
    expect(promotions.map((t) => [t.environment, t.promotes_to, t.promotes_to_readonly_url_env])).toEqual([
      ['staging', 'prod-eu', 'PROD_EU_READONLY_URL'],
      ['staging', 'prod-us', 'PROD_US_READONLY_URL'],
    ]);
    const targets = workflowTargets(environments());
    expect(targets.map((t) => [t.environment, t.upstream])).toEqual([
      ['staging', ''],
      ['prod-eu', 'staging'],
      ['prod-us', 'staging'],
    ]);
    expect(targetMatrices(targets, [], 'prod-us', promotions).promotions).toEqual(promotions);
  });

  it('the promote workflow passes each job its downstream, and keeps one run per pair at a time', () => {
    const workflow = parseWorkflow(readFileSync(join(ROOT, '.github/workflows/rollout-promote.yml'), 'utf8'));
    const step = workflow.jobs.promote.steps!.find((s) => s.uses === './.rollout-action/actions/promote')!;
    expect(step.with?.to).toBe('${{ matrix.target.promotes_to }}');
    expect(JSON.stringify(workflow.jobs.promote)).toContain('rollout-promote-${{ matrix.target.environment }}-${{ matrix.target.promotes_to }}');
  });

  it('a promote step without to: on an environment with several downstreams refuses, naming them', async () => {
    const context = { owner: 'octo-org', repo: 'octo-repo', sha: '', ref: 'refs/heads/main', eventName: 'workflow_run', event: {}, apiUrl: 'http://127.0.0.1:9', runUrl: '', actor: 'octocat', pullRequest: null } satisfies RunContext;
    const runtime = { info: () => undefined, summary: () => Promise.resolve(), scrub: (t: string) => t } as unknown as Runtime;
    const scm = (): ScmClient => {
      throw new Error('no GitHub call is made before the refusal');
    };
    const inputs = { root, databaseUrl: null, targetDatabaseUrl: null, from: 'staging', to: null, githubToken: 'ghs_x', base: 'main', context };
    await expect(promoteStep(inputs, {}, root, runtime, scm)).rejects.toThrow('staging promotes to prod-eu and prod-us (environments/staging.yaml); set input to: to the one to promote');
  });
});
