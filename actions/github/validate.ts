/** The validate step: every environment file checked at once, annotations on the offending lines. */
import { execFile } from 'node:child_process';
import { join, relative } from 'node:path';
import { loadRepository } from '../engine/config/repository.ts';
import { hasErrors, sortProblems, type Problem } from '../engine/problems.ts';
import { checkRepositoryMigrations } from '../engine/migrate/offline-check.ts';
import { renderProblems } from '../engine/render/problems.ts';
import type { ValidateInputs } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export interface ValidateResult {
  environments: string[];
  /** Environments a change since the base commit may affect (all of them without a base). */
  affected: string[];
  errors: number;
  warnings: number;
  failed: boolean;
}

/** Files outside environments/ that every environment reads. */
const SHARED = /^(migrations|contracts|checks)\/|^rollout\.ya?ml$/;

export async function validateStep(inputs: ValidateInputs, runtime: Runtime, workspace: string): Promise<ValidateResult> {
  const repository = loadRepository(inputs.root, { only: inputs.environments });
  const migrations = await checkRepositoryMigrations(repository, inputs.environments);
  // Annotations name files from the workspace, which is not the root when `root` is set.
  const fromWorkspace = (file: string): string => relative(workspace, join(inputs.root, file)) || file;
  const problems: Problem[] = sortProblems([...repository.problems, ...migrations.problems]).map((p) => ({ ...p, file: fromWorkspace(p.file) }));
  runtime.command(renderProblems(problems, 'github'));
  const environments = [...repository.files.keys()];
  // An embedded database lives on a laptop, not in CI: only server-backed environments are planned there.
  const all = environments.filter((name) => repository.files.get(name)?.environment?.database.kind === 'url');
  const changed = inputs.baseSha ? await changedFiles(inputs.root, inputs.baseSha, runtime) : null;
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  await runtime.summary(validateMarkdown(problems, environments));
  return { environments, affected: affectedEnvironments(changed, all), errors, warnings, failed: inputs.strict ? problems.length > 0 : hasErrors(problems) };
}

/** Which environments to plan for a change: their own file, or all of them when a shared file changed. */
export function affectedEnvironments(changed: readonly string[] | null, all: readonly string[]): string[] {
  if (changed === null || changed.some((file) => SHARED.test(file))) return [...all];
  const touched = new Set(changed.map((file) => /^environments\/([^/]+)\.ya?ml$/.exec(file)?.[1]).filter((name) => name !== undefined));
  return all.filter((name) => touched.has(name));
}

export function validateMarkdown(problems: readonly Problem[], environments: readonly string[]): string {
  if (problems.length === 0) return `### rollout validate\n\n✓ ${environments.length} environment(s) valid: ${environments.map((e) => `\`${e}\``).join(', ')}\n`;
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
  const rows = problems.map((p) => `| \`${cell(p.file)}:${p.line}:${p.column}\` | ${p.severity === 'error' ? '⛔ error' : '⚠️ warning'} | ${cell(p.message)} |`);
  return `### rollout validate\n\n${problems.length} problem(s):\n\n| where | severity | problem |\n| --- | --- | --- |\n${rows.join('\n')}\n`;
}

/** Files changed since `base`, relative to the root; null (so: everything) when git cannot tell. */
function changedFiles(root: string, base: string, runtime: Runtime): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('git', ['diff', '--name-only', '--relative', base, 'HEAD', '--'], { cwd: root }, (error, stdout) => {
      if (error) {
        runtime.warning(`Could not list the files changed since ${base.slice(0, 12)} (fetch it with actions/checkout fetch-depth: 0); treating every environment as affected.`);
        resolve(null);
      } else {
        resolve(stdout.split('\n').filter((line) => line !== ''));
      }
    });
  });
}
