// The plan action: desired vs live for one environment, in the job summary and a sticky PR comment.
import { parsePlanInputs } from '../github/inputs.ts';
import { planStep } from '../github/plan.ts';
import { runAction } from '../github/run.ts';
import { lazyScm } from '../github/scm.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parsePlanInputs(process.env);
  const planned = await planStep(inputs, process.env, runtime, lazyScm(inputs.githubToken, inputs.context));
  runtime.setOutput('plan-hash', planned.hash);
  runtime.setOutput('summary', planned.summary);
  runtime.setOutput('has-changes', planned.hasChanges);
  runtime.setOutput('comment-id', planned.commentId ?? '');
  if (planned.cannotApply) runtime.setFailed(planned.cannotApply);
});
