/** The bundled validate entry as a process: outputs, job summary and annotations (no database, no API). */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeRun, exampleRepository, expectGolden, runEntry, webhookPayload } from './support.ts';

describe('validate action (bundled entry)', () => {
  let repo: { root: string; dispose(): Promise<void> };
  beforeEach(async () => {
    repo = await exampleRepository();
  });
  afterEach(() => repo.dispose());

  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo.root, encoding: 'utf8' }).trim();

  it('on a pull_request, reports valid files and plans only the environment whose file changed', async () => {
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    const base = git('rev-parse', 'HEAD');
    const staging = join(repo.root, 'environments/staging.yaml');
    await writeFile(staging, (await readFile(staging, 'utf8')).replace('description: Staging', 'description: The staging'));
    git('commit', '-q', '-am', 'change staging');
    const run = await runEntry('validate', { workspace: repo.root, event: { name: 'pull_request', payload: webhookPayload('pull_request', 'opened') }, inputs: { 'base-sha': base } });
    expect(run.stderr).toBe('');
    expect(run.outputs['affected-environments']).toBe('["staging"]');
    expectGolden('validate-valid', describeRun(run));
  });

  it('fails with an annotation on the offending line of a broken file, and lists every problem in the summary', async () => {
    const staging = join(repo.root, 'environments/staging.yaml');
    await writeFile(staging, (await readFile(staging, 'utf8')).replace('promotes_to: production', 'promotes_to: prod').replace(/rollout: \{ stage: [a-z]+/, 'rollout: { stage: sideways'));
    const run = await runEntry('validate', { workspace: repo.root, event: { name: 'push', payload: webhookPayload('push') } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error file=environments\/staging\.yaml,line=\d+,col=\d+/m);
    expect(run.stdout).toMatch(/^::error::\d+ error\(s\)/m);
    expectGolden('validate-broken', `${describeRun(run)}\n# stdout (annotations)\n${run.stdout}`);
  });

  it('rejects an invalid input with the expected form', async () => {
    const run = await runEntry('validate', { workspace: repo.root, inputs: { strict: 'yes' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("::error::Invalid input strict 'yes'. Expected true or false.");
  });
});
