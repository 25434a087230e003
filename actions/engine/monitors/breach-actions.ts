/**
 * Breach actions outside the database: a GitHub repository_dispatch or workflow_dispatch (a
 * workflow the team owns: "scale worker concurrency", "rollback deployment") and a webhook
 * (paging), each with the measurement in its payload. They run after the database actions;
 * a failure is reported with the breach, never instead of it. URLs and tokens come from
 * variables the file names and are never printed.
 */
import type { JsonValue } from '../config/model.ts';
import { toError } from '../errors.ts';

export interface BreachPayload {
  environment: string;
  monitor: string;
  severity: string;
  verdict: string;
  value: number | null;
  detail: string;
  at: string;
  /** Flags whose exit criterion it is, and what health did to them. */
  flags: string[];
  rolledBack: string[];
}

export interface GitHubTarget {
  /** https://api.github.com, or GITHUB_API_URL (GHES, tests). */
  apiUrl: string;
  /** owner/name the run is in, when known. */
  repository?: string;
  /** The token the health action was given (used when the file names no token_env). */
  token?: string;
}

export type ExternalAction =
  | { kind: 'dispatch'; target: string; outcome: 'sent' | 'not run' | 'failed'; message?: string }
  | { kind: 'webhook'; target: string; outcome: 'sent' | 'not run' | 'failed'; message?: string };

export interface ExternalOptions {
  processEnv: NodeJS.ProcessEnv;
  github: GitHubTarget;
  act: boolean;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The on_breach entries that are not kill switches, as written. */
export function externalActionsOf(onBreach: JsonValue | undefined): Record<string, JsonValue>[] {
  const list = Array.isArray(onBreach) ? onBreach : onBreach && typeof onBreach === 'object' ? [onBreach] : [];
  return list.filter((a): a is Record<string, JsonValue> => a !== null && typeof a === 'object' && !Array.isArray(a) && ('dispatch' in a || 'webhook' in a));
}

export async function runExternalAction(action: Record<string, JsonValue>, payload: BreachPayload, options: ExternalOptions): Promise<ExternalAction> {
  if ('webhook' in action) {
    const spec = action.webhook as { url_env: string };
    const target = `webhook ${spec.url_env}`;
    if (!options.act) return { kind: 'webhook', target, outcome: 'not run', message: 'dry run (--no-act)' };
    const url = options.processEnv[spec.url_env];
    if (!url) return { kind: 'webhook', target, outcome: 'failed', message: `${spec.url_env} is not set: give the run the webhook URL under that name (a secret).` };
    const sent = await post(url, { 'content-type': 'application/json', 'user-agent': 'rollout-health' }, { event: 'rollout.breach', ...payload }, options.timeoutMs);
    return { kind: 'webhook', target, ...sent };
  }
  const spec = action.dispatch as { event_type?: string; workflow?: string; ref?: string; inputs?: Record<string, string>; measurement_input?: string; repository?: string; token_env?: string };
  const repository = spec.repository ?? options.github.repository ?? options.processEnv.GITHUB_REPOSITORY;
  const what = spec.workflow ? `workflow_dispatch ${spec.workflow}` : `repository_dispatch ${spec.event_type ?? ''}`;
  const target = `${what} in ${repository ?? '(no repository)'}`;
  if (!options.act) return { kind: 'dispatch', target, outcome: 'not run', message: 'dry run (--no-act)' };
  if (!repository) return { kind: 'dispatch', target, outcome: 'failed', message: 'no repository: set dispatch.repository (owner/name) or run where GITHUB_REPOSITORY is set.' };
  const tokenName = spec.token_env ?? 'GITHUB_TOKEN';
  const token = (spec.token_env ? undefined : options.github.token) ?? options.processEnv[tokenName];
  if (!token) return { kind: 'dispatch', target, outcome: 'failed', message: `no GitHub token: set ${tokenName} (a token that may dispatch to ${repository}).` };
  const [owner, repo] = repository.split('/').map(encodeURIComponent);
  const base = options.github.apiUrl.replace(/\/+$/, '');
  const headers = { accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'rollout-health', 'x-github-api-version': '2022-11-28' };
  const sent = spec.workflow
    ? await post(`${base}/repos/${owner}/${repo}/actions/workflows/${encodeURIComponent(spec.workflow)}/dispatches`, headers, {
        ref: spec.ref ?? 'main',
        inputs: { ...(spec.inputs ?? {}), ...(spec.measurement_input ? { [spec.measurement_input]: JSON.stringify(payload) } : {}) },
      }, options.timeoutMs)
    : await post(`${base}/repos/${owner}/${repo}/dispatches`, headers, { event_type: spec.event_type, client_payload: payload }, options.timeoutMs);
  return { kind: 'dispatch', target, ...sent };
}

async function post(url: string, headers: Record<string, string>, body: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ outcome: 'sent' | 'failed'; message?: string }> {
  try {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    if (response.ok) return { outcome: 'sent' };
    // The body of an error is the service's explanation (GitHub's "message"); the URL is a secret, so it is not repeated.
    const text = (await response.text().catch(() => '')).slice(0, 300).replace(/\s+/g, ' ');
    return { outcome: 'failed', message: `HTTP ${response.status}${text ? `: ${text}` : ''}` };
  } catch (thrown) {
    const error = toError(thrown);
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { outcome: 'failed', message: error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${error.message}${cause}`.replace(url, '(the URL)') };
  }
}
