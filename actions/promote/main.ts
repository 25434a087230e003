// The promote action: open or update the PR that carries an environment's soaked state to the next one.
import { parsePromoteInputs } from '../github/inputs.ts';
import { promoteStep } from '../github/promote.ts';
import { runAction } from '../github/run.ts';
import { lazyScm } from '../github/scm.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parsePromoteInputs(process.env);
  const { result, pullRequest } = await promoteStep(inputs, process.env, process.env.GITHUB_WORKSPACE ?? process.cwd(), runtime, lazyScm(inputs.githubToken, inputs.context));
  runtime.setOutput('to', result?.to ?? '');
  runtime.setOutput('changed', Boolean(result && result.diff !== ''));
  runtime.setOutput('pull-request-number', pullRequest ?? '');
});
