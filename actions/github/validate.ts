/** The validate step: every environment file checked at once, annotations on the offending lines. */
import { execFile } from 'node:child_process';
import { join, relative } from 'node:path';
import { downstreamsOf } from '../engine/config/environment-file.ts';
import type { Environment } from '../engine/config/model.ts';
import { loadRepository } from '../engine/config/repository.ts';
import { hasErrors, sortProblems, type Problem } from '../engine/problems.ts';
import { checkRepositoryMigrations } from '../engine/migrate/offline-check.ts';
import { checkRepositoryQueries } from '../engine/checks/offline-check.ts';
import { healthScheduleProblems } from '../engine/config/health-schedule.ts';
import { renderProblems } from '../engine/render/problems.ts';
import type { ValidateInputs } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export interface ValidateResult {
  environments: string[];
  /** Environments a change since the base commit may affect (all of them without a base). */
  affected: string[];
  /** Every environment on a database server, upstream first, for workflow matrices. */
  targets: Target[];
  /** One per promotion (an environment may promote to several), for the promotion workflow's matrix. */
  promotions: Target[];
  errors: number;
  warnings: number;
  failed: boolean;
}

/** Files outside environments/ that every environment reads. */
const SHARED = /^(migrations|contracts|checks)\/|^rollout\.ya?ml$/;

export async function validateStep(inputs: ValidateInputs, runtime: Runtime, workspace: string): Promise<ValidateResult> {
  const repository = loadRepository(inputs.root, { only: inputs.environments });
  const migrations = await checkRepositoryMigrations(repository, inputs.environments);
  const queries = await checkRepositoryQueries(repository, inputs.environments);
  // Annotations name files from the workspace, which is not the root when `root` is set.
  const fromWorkspace = (file: string): string => relative(workspace, join(inputs.root, file)) || file;
  const problems: Problem[] = sortProblems([...repository.problems, ...migrations.problems, ...queries, ...healthScheduleProblems(repository).problems]).map((p) => ({ ...p, file: fromWorkspace(p.file) }));
  runtime.command(renderProblems(problems, 'github'));
  const environments = [...repository.files.keys()];
  // An embedded database lives on a laptop, not in CI: only server-backed environments are planned there.
  const all = environments.filter((name) => repository.files.get(name)?.environment?.database.kind === 'url');
  const changed = inputs.baseSha ? await changedFiles(inputs.root, inputs.baseSha, runtime) : null;
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  await runtime.summary(validateMarkdown(problems, environments));
  const only = new Set(inputs.environments);
  const loaded = [...repository.files.values()].flatMap((f) => (f.environment ? [f.environment] : []));
  const chosen = (t: Target): boolean => only.size === 0 || only.has(t.environment);
  const targets = workflowTargets(loaded).filter(chosen);
  const promotions = promotionTargets(loaded).filter(chosen);
  return { environments, affected: affectedEnvironments(changed, all), targets, promotions, errors, warnings, failed: inputs.strict ? problems.length > 0 : hasErrors(problems) };
}

/**
 * One environment as a workflow job needs it: the names of the secrets that hold its URLs
 * (a reusable workflow reads them as secrets[target.url_env]) and its neighbours on the
 * promotion chain. Empty strings where there is none, since workflow expressions have no null.
 */
export interface Target {
  environment: string;
  url_env: string;
  readonly_url_env: string;
  /** The environment that promotes to this one. */
  upstream: string;
  upstream_url_env: string;
  upstream_readonly_url_env: string;
  promotes_to: string;
  promotes_to_url_env: string;
  promotes_to_readonly_url_env: string;
}

/** Environments on database servers, each after the one that promotes to it (staging before production). */
export function workflowTargets(environments: readonly Environment[]): Target[] {
  return serverTargets(environments).targets;
}

/** One target per promotion between environments on database servers: (staging, prod-eu) and (staging, prod-us). */
export function promotionTargets(environments: readonly Environment[]): Target[] {
  return serverTargets(environments).promotions;
}

function serverTargets(environments: readonly Environment[]): { targets: Target[]; promotions: Target[] } {
  const servers = environments.filter((e) => e.database.kind === 'url');
  const byName = new Map(servers.map((e) => [e.name, e]));
  const urls = (e: Environment | undefined): [string, string] => (e?.database.kind === 'url' ? [e.database.urlEnv, e.database.readonlyUrlEnv ?? ''] : ['', '']);
  const upstreamOf = (e: Environment): Environment | undefined => servers.find((u) => downstreamsOf(u).includes(e.name) && u !== e);
  const depth = (e: Environment): number => {
    let n = 0;
    for (let at = upstreamOf(e); at && n < servers.length; at = upstreamOf(at)) n++;
    return n;
  };
  const target = (e: Environment, next: Environment | undefined): Target => {
    const upstream = upstreamOf(e);
    const [urlEnv, readonlyUrlEnv] = urls(e);
    const [upstreamUrlEnv, upstreamReadonlyUrlEnv] = urls(upstream);
    const [nextUrlEnv, nextReadonlyUrlEnv] = urls(next);
    return {
      environment: e.name,
      url_env: urlEnv,
      readonly_url_env: readonlyUrlEnv,
      upstream: upstream?.name ?? '',
      upstream_url_env: upstreamUrlEnv,
      upstream_readonly_url_env: upstreamReadonlyUrlEnv,
      promotes_to: next?.name ?? '',
      promotes_to_url_env: nextUrlEnv,
      promotes_to_readonly_url_env: nextReadonlyUrlEnv,
    };
  };
  const sorted = [...servers].sort((a, b) => depth(a) - depth(b) || a.name.localeCompare(b.name));
  return {
    targets: sorted.map((e) => target(e, e.promotesTo ? byName.get(e.promotesTo) : undefined)),
    // promotes_to may name several environments (staging → prod-eu and prod-us): one promotion each.
    promotions: sorted.flatMap((e) => downstreamsOf(e).flatMap((name) => (byName.has(name) ? [target(e, byName.get(name))] : []))),
  };
}

/** The matrices a workflow fans out over, from the targets, what a change affects and the name of production. */
export function targetMatrices(
  targets: readonly Target[],
  affected: readonly string[],
  production: string,
  promotions: readonly Target[] = targets.filter((t) => t.promotes_to !== ''),
): {
  applyTargets: Target[];
  productionTarget: Target | null;
  planTargets: Target[];
  unplannable: string[];
  promotions: Target[];
} {
  const touched = new Set(affected);
  return {
    applyTargets: targets.filter((t) => t.environment !== production),
    productionTarget: targets.find((t) => t.environment === production) ?? null,
    // A pull request's job holds read-only URLs only: an environment without one is not planned there.
    planTargets: targets.filter((t) => touched.has(t.environment) && t.readonly_url_env !== ''),
    unplannable: targets.filter((t) => touched.has(t.environment) && t.readonly_url_env === '').map((t) => t.environment),
    promotions: [...promotions],
  };
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
