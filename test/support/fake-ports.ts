/**
 * Hand-written fakes of the action ports (Runtime, ScmClient), so the GitHub steps are tested as
 * functions: what they printed, published and asked of GitHub, without a runner or an API. The
 * SCM fake keeps state like GitHub does (a comment found again by its marker is updated, a closed
 * issue is no longer found), so a test that runs a step twice sees what a second run would see.
 * The Prism process tests (test/actions/github-api.test.ts) cover the real octokit calls.
 */
import { secretScrubber } from '../../actions/engine/secrets.ts';
import type { Runtime } from '../../actions/github/runtime.ts';
import type { DeploymentState, FileChange, ScmClient } from '../../actions/github/scm.ts';

export interface FakeRuntime extends Runtime {
  outputs: Record<string, string | number | boolean>;
  infos: string[];
  warnings: string[];
  commands: string[];
  summaries: string[];
  failures: string[];
}

/** A runtime that records what a step printed; `scrub` is the real scrubber over these variables. */
export function fakeRuntime(processEnv: NodeJS.ProcessEnv = {}): FakeRuntime {
  const scrub = secretScrubber(processEnv);
  const runtime: FakeRuntime = {
    outputs: {},
    infos: [],
    warnings: [],
    commands: [],
    summaries: [],
    failures: [],
    setOutput: (name, value) => void (runtime.outputs[name] = typeof value === 'string' ? scrub(value) : value),
    info: (text) => void runtime.infos.push(scrub(text)),
    warning: (text) => void runtime.warnings.push(scrub(text)),
    command: (text) => void runtime.commands.push(scrub(text)),
    summary: (markdown) => Promise.resolve(void runtime.summaries.push(scrub(markdown))),
    setFailed: (message) => void runtime.failures.push(scrub(message)),
    scrub,
  };
  return runtime;
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
}
export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  comments: string[];
}
export interface FakePullRequest {
  number: number;
  branch: string;
  base: string;
  title: string;
  body: string;
  message: string;
  files: FileChange[];
}
export interface FakeDeployment {
  id: number;
  ref: string;
  environment: string;
  description: string;
  production: boolean;
  statuses: Array<{ state: DeploymentState; description: string; logUrl: string }>;
}

export interface FakeScm extends ScmClient {
  comments: FakeComment[];
  issues: FakeIssue[];
  pullRequests: FakePullRequest[];
  deployments: FakeDeployment[];
  /** Method names in call order. */
  calls: string[];
  visibility: 'public' | 'private' | 'internal';
  /** Make the named method reject (once per call) with this error, as a failing API would. */
  failing: Partial<Record<keyof ScmClient, Error>>;
}

/** An in-memory GitHub repository behind the ScmClient port. Numbers are shared by issues and PRs, as on GitHub. */
export function fakeScm(): FakeScm {
  let nextNumber = 1;
  let nextId = 1000;
  const scm: FakeScm = {
    comments: [],
    issues: [],
    pullRequests: [],
    deployments: [],
    calls: [],
    visibility: 'private',
    failing: {},
    upsertComment: call('upsertComment', (issue: number, marker: string, body: string) => {
      const existing = scm.comments.find((c) => c.issue === issue && c.body.includes(marker));
      if (existing) {
        existing.body = body;
        return { id: existing.id, action: 'updated' as const };
      }
      const comment = { id: nextId++, issue, body };
      scm.comments.push(comment);
      return { id: comment.id, action: 'created' as const };
    }),
    createDeployment: call('createDeployment', (input: { ref: string; environment: string; description: string; production: boolean }) => {
      const deployment = { id: nextId++, ...input, statuses: [] };
      scm.deployments.push(deployment);
      return deployment.id;
    }),
    setDeploymentStatus: call('setDeploymentStatus', (id: number, state: DeploymentState, input: { description: string; logUrl: string }) => {
      const deployment = scm.deployments.find((d) => d.id === id);
      if (!deployment) throw new Error(`fake GitHub: no deployment ${id}`);
      deployment.statuses.push({ state, ...input });
    }),
    upsertIssue: call('upsertIssue', (input: { marker: string; title: string; body: string; labels: string[] }) => {
      const existing = openIssue(input.marker, input.labels);
      if (existing) {
        Object.assign(existing, { title: input.title, body: input.body });
        return { number: existing.number, action: 'updated' as const };
      }
      const issue: FakeIssue = { number: nextNumber++, title: input.title, body: input.body, labels: input.labels, state: 'open', comments: [] };
      scm.issues.push(issue);
      return { number: issue.number, action: 'created' as const };
    }),
    closeIssue: call('closeIssue', (input: { marker: string; labels: string[]; comment: string }) => {
      const existing = openIssue(input.marker, input.labels);
      if (!existing) return null;
      existing.comments.push(input.comment);
      existing.state = 'closed';
      return existing.number;
    }),
    upsertPullRequest: call('upsertPullRequest', (input: { branch: string; base: string; title: string; body: string; message: string; files: FileChange[] }) => {
      const existing = scm.pullRequests.find((p) => p.branch === input.branch && p.base === input.base);
      if (existing) {
        Object.assign(existing, input);
        return { number: existing.number, action: 'updated' as const };
      }
      const pr = { number: nextNumber++, ...input };
      scm.pullRequests.push(pr);
      return { number: pr.number, action: 'created' as const };
    }),
    repositoryVisibility: call('repositoryVisibility', () => scm.visibility),
  };

  function openIssue(marker: string, labels: string[]): FakeIssue | undefined {
    return scm.issues.find((i) => i.state === 'open' && i.body.includes(marker) && labels.every((l) => i.labels.includes(l)));
  }

  function call<A extends unknown[], R>(name: keyof ScmClient, body: (...args: A) => R): (...args: A) => Promise<R> {
    return (...args) => {
      scm.calls.push(name);
      const failure = scm.failing[name];
      if (failure) return Promise.reject(failure);
      try {
        return Promise.resolve(body(...args));
      } catch (thrown) {
        return Promise.reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
      }
    };
  }
  return scm;
}
