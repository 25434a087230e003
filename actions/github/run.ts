/** One try/catch for every action entry: a user's mistake is a clear failure, anything else says it is a bug. */
import { reportCleanupWarningsTo } from '../engine/cleanup.ts';
import { UserError, ValidationError, toError } from '../engine/errors.ts';
import { renderProblems } from '../engine/render/problems.ts';
import type { Env } from './inputs.ts';
import { githubRuntime, type Runtime } from './runtime.ts';

export async function runAction(env: Env, step: (runtime: Runtime) => Promise<void>): Promise<void> {
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
    } else {
      const error = toError(thrown);
      runtime.setFailed(`internal error (a bug in rollout, not in your files): ${error.message}`);
      if (env.RUNNER_DEBUG === '1' || env.ROLLOUT_DEBUG) runtime.info(error.stack ?? '');
    }
  } finally {
    restoreWarnings();
  }
}
