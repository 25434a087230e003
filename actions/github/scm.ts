/**
 * The SCM port: what the pipeline asks of GitHub (sticky comments, deployments, one issue
 * per environment, promotion PRs), and its implementation over @actions/github's octokit.
 * Lists are read page by page until a short page: every page, never just the first, and
 * without following Link headers (they name the public API host, whatever baseUrl is).
 */
import type { getOctokit } from '@actions/github';
import type { RunContext } from './inputs.ts';

export interface FileChange {
  path: string;
  content: string;
}

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface ScmClient {
  /** Update the comment holding `marker` on this issue or PR, or create it. */
  upsertComment(issue: number, marker: string, body: string): Promise<{ id: number; action: 'created' | 'updated' }>;
  createDeployment(input: { ref: string; environment: string; description: string; production: boolean }): Promise<number>;
  setDeploymentStatus(id: number, state: DeploymentState, input: { description: string; logUrl: string }): Promise<void>;
  /** The open issue holding `marker`: updated, or opened. */
  upsertIssue(input: { marker: string; title: string; body: string; labels: string[] }): Promise<{ number: number; action: 'created' | 'updated' }>;
  /** Close the open issue holding `marker`, with a comment; null when there is none. */
  closeIssue(input: { marker: string; labels: string[]; comment: string }): Promise<number | null>;
  /** Point `branch` at `base` plus these files, and open (or update) its PR into `base`. */
  upsertPullRequest(input: { branch: string; base: string; title: string; body: string; message: string; files: FileChange[] }): Promise<{ number: number; action: 'created' | 'updated' }>;
  /** Who can read the repository's issues and run summaries. */
  repositoryVisibility(): Promise<'public' | 'private' | 'internal'>;
}

const PER_PAGE = 100;
/** A bound on pages read, so that a misbehaving server cannot keep us looping. */
const MAX_PAGES = 1000;

type Octokit = ReturnType<typeof getOctokit>;

export function githubScm(token: string, context: RunContext): ScmClient {
  // Imported on first use: @actions/github brings octokit and an HTTP stack (undici), ~1 MB of
  // code that a plan without a PR comment never runs but paid ~80 ms to compile and evaluate.
  let loading: Promise<Octokit> | undefined;
  const client = (): Promise<Octokit> => (loading ??= import('@actions/github').then(({ getOctokit }) => getOctokit(token, { baseUrl: context.apiUrl })));
  const repo = { owner: context.owner, repo: context.repo };

  async function findOpenIssue(marker: string, labels: string[]): Promise<{ number: number } | undefined> {
    const octokit = await client();
    return findInPages(async (page) => {
      const { data } = await octokit.rest.issues.listForRepo({ ...repo, state: 'open', labels: labels.join(','), per_page: PER_PAGE, page });
      return data;
    }, (issue) => !issue.pull_request && (issue.body ?? '').includes(marker));
  }

  return {
    async upsertComment(issue, marker, body) {
      const octokit = await client();
      const existing = await findInPages(async (page) => {
        const { data } = await octokit.rest.issues.listComments({ ...repo, issue_number: issue, per_page: PER_PAGE, page });
        return data;
      }, (comment) => (comment.body ?? '').includes(marker));
      if (existing) {
        await octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
        return { id: existing.id, action: 'updated' };
      }
      const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: issue, body });
      return { id: data.id, action: 'created' };
    },

    async createDeployment({ ref, environment, description, production }) {
      const octokit = await client();
      const response = await octokit.rest.repos.createDeployment({
        ...repo,
        ref,
        environment,
        description,
        // The workflow already ran the checks it wants; GitHub must not wait for others.
        required_contexts: [],
        auto_merge: false,
        production_environment: production,
        transient_environment: false,
      });
      if (!('id' in response.data)) throw new Error(`GitHub did not create a deployment of ${ref} to ${environment}: ${response.data.message ?? 'no reason given'}`);
      return response.data.id;
    },

    async setDeploymentStatus(id, state, { description, logUrl }) {
      const octokit = await client();
      await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: id, state, description: description.slice(0, 140), log_url: logUrl, auto_inactive: state === 'success' });
    },

    async upsertIssue({ marker, title, body, labels }) {
      const octokit = await client();
      const existing = await findOpenIssue(marker, labels);
      if (existing) {
        await octokit.rest.issues.update({ ...repo, issue_number: existing.number, title, body });
        return { number: existing.number, action: 'updated' };
      }
      const { data } = await octokit.rest.issues.create({ ...repo, title, body, labels });
      return { number: data.number, action: 'created' };
    },

    async closeIssue({ marker, labels, comment }) {
      const octokit = await client();
      const existing = await findOpenIssue(marker, labels);
      if (!existing) return null;
      await octokit.rest.issues.createComment({ ...repo, issue_number: existing.number, body: comment });
      await octokit.rest.issues.update({ ...repo, issue_number: existing.number, state: 'closed', state_reason: 'completed' });
      return existing.number;
    },

    async upsertPullRequest({ branch, base, title, body, message, files }) {
      const octokit = await client();
      const { data: baseRef } = await octokit.rest.git.getRef({ ...repo, ref: `heads/${base}` });
      await pointBranch(octokit, repo, branch, baseRef.object.sha);
      for (const file of files) {
        await octokit.rest.repos.createOrUpdateFileContents({
          ...repo,
          path: file.path,
          branch,
          message,
          content: Buffer.from(file.content, 'utf8').toString('base64'),
          ...(await blobSha(octokit, repo, file.path, branch)),
        });
      }
      const existing = await findInPages(async (page) => {
        const { data } = await octokit.rest.pulls.list({ ...repo, state: 'open', head: `${repo.owner}:${branch}`, base, per_page: PER_PAGE, page });
        return data;
      }, () => true);
      if (existing) {
        await octokit.rest.pulls.update({ ...repo, pull_number: existing.number, title, body });
        return { number: existing.number, action: 'updated' };
      }
      const { data } = await octokit.rest.pulls.create({ ...repo, head: branch, base, title, body, maintainer_can_modify: true });
      return { number: data.number, action: 'created' };
    },

    async repositoryVisibility() {
      const octokit = await client();
      const { data } = await octokit.rest.repos.get(repo);
      return data.visibility === 'internal' ? 'internal' : data.private ? 'private' : 'public';
    },
  };
}

/** Read pages 1, 2, … until one is short (the last), returning the first item that matches. */
export async function findInPages<T>(readPage: (page: number) => Promise<T[]>, matches: (item: T) => boolean): Promise<T | undefined> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const items = await readPage(page);
    const found = items.find(matches);
    if (found) return found;
    if (items.length < PER_PAGE) return undefined;
  }
  return undefined;
}

/** Create the branch at `sha`, or move it there when it exists (the promotion branch is ours). */
async function pointBranch(octokit: Octokit, repo: { owner: string; repo: string }, branch: string, sha: string): Promise<void> {
  try {
    await octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha });
  } catch (thrown) {
    if ((thrown as { status?: number }).status !== 422) throw thrown;
    await octokit.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha, force: true });
  }
}

/** The blob SHA of a file on a branch (needed to replace it), or nothing when it is new. */
async function blobSha(octokit: Octokit, repo: { owner: string; repo: string }, path: string, ref: string): Promise<{ sha?: string }> {
  try {
    const { data } = await octokit.rest.repos.getContent({ ...repo, path, ref });
    return !Array.isArray(data) && typeof data.sha === 'string' ? { sha: data.sha } : {};
  } catch (thrown) {
    if ((thrown as { status?: number }).status === 404) return {};
    throw thrown;
  }
}

/** The client made on first use only: a step that never talks to GitHub needs no token to work. */
export function lazyScm(token: string, context: RunContext): () => ScmClient {
  let client: ScmClient | undefined;
  return () => (client ??= githubScm(token, context));
}
