// The plan action: desired vs live for one environment, in the job summary and a sticky PR comment.
import { parsePlanInputs } from '../github/inputs.ts';
import { planStep } from '../github/plan.ts';
import { runAction } from '../github/run.ts';
import { lazyScm } from '../github/scm.ts';
import { summaryLine } from '../engine/render/plan.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parsePlanInputs(process.env);
  const { plan, commentId } = await planStep(inputs, process.env, runtime, lazyScm(inputs.githubToken, inputs.context));
  runtime.setOutput('plan-hash', plan.hash);
  runtime.setOutput('summary', summaryLine(plan));
  runtime.setOutput('has-changes', !plan.noop);
  runtime.setOutput('comment-id', commentId ?? '');
  if (plan.summary.blocked || plan.summary.refused > 0) runtime.setFailed(`The plan for ${plan.environment} cannot be applied as it stands: ${summaryLine(plan)}`);
});
