/** One try/catch for every action entry: a user's mistake is a clear failure, anything else says it is a bug. */
import { reportCleanupWarningsTo } from '../engine/cleanup.ts';
import { UserError, ValidationError, databaseRefusal, toError } from '../engine/errors.ts';
import { renderProblems } from '../engine/render/problems.ts';
import type { Env } from './inputs.ts';
import { githubRuntime, type Runtime } from './runtime.ts';
import { baselineWasmOnly } from '../engine/wasm-tiering.ts';

export async function runAction(env: Env, step: (runtime: Runtime) => Promise<void>): Promise<void> {
  baselineWasmOnly();
  const runtime = githubRuntime(env);
  const restoreWarnings = reportCleanupWarningsTo((message) => runtime.warning(message));
  try {
    await step(runtime);
  } catch (thrown) {
    if (thrown instanceof ValidationError) {
      runtime.command(renderProblems(thrown.problems, 'github'));
      runtime.setFailed(`${thrown.message}: fix them (the validate action annotates each line), then run again.`);
    } else if (thrown instanceof UserError) {
      runtime.setFailed(thrown.message);
    } else if (databaseRefusal(thrown)) {
      runtime.setFailed(databaseRefusal(thrown)!.message);
    } else if (unreachable(thrown)) {
      // The network between the runner and GitHub is not a bug in rollout (issue 13, defect 6).
      const api = env.GITHUB_API_URL ?? 'https://api.github.com';
      runtime.setFailed(
        `could not reach the GitHub API at ${api}: ${unreachable(thrown)}. Check the runner's network (proxy, firewall) and GITHUB_API_URL (for GitHub Enterprise Server), then re-run the job; nothing after the failed call was done.`,
      );
    } else {
      const error = toError(thrown);
      runtime.setFailed(`internal error (a bug in rollout, not in your files): ${error.message}`);
      if (env.RUNNER_DEBUG === '1' || env.ROLLOUT_DEBUG) runtime.info(error.stack ?? '');
    }
  } finally {
    restoreWarnings();
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** The network failure under a failed request (fetch wraps it as `cause`), as "ECONNREFUSED 127.0.0.1:9"; undefined if there is none. */
function unreachable(thrown: unknown): string | undefined {
  for (let error = thrown as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; error && depth < 5; error = error.cause as typeof error, depth++) {
    if (typeof error.code === 'string' && NETWORK_CODES.has(error.code)) return typeof error.message === 'string' ? error.message : error.code;
    // fetch wraps what it refused before connecting (e.g. "bad port") without a code.
    if (error.message === 'fetch failed' && !(error.cause as { code?: unknown } | undefined)?.code) {
      const cause = error.cause as { message?: unknown } | undefined;
      return typeof cause?.message === 'string' ? `fetch failed: ${cause.message}` : 'fetch failed';
    }
  }
  return undefined;
}
