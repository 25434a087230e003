// The apply action: make live equal Git for one environment, refusing a plan other than the reviewed one.
import { applyStep } from '../github/apply.ts';
import { parseApplyInputs } from '../github/inputs.ts';
import { runAction } from '../github/run.ts';
import { lazyScm } from '../github/scm.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parseApplyInputs(process.env);
  const { result, verified, deploymentId, ok } = await applyStep(inputs, process.env, runtime, lazyScm(inputs.githubToken, inputs.context));
  runtime.setOutput('plan-hash', result.plan.hash);
  runtime.setOutput('changed', result.ledgerId !== null);
  runtime.setOutput('ledger-id', result.ledgerId ?? '');
  runtime.setOutput('verified', verified === null ? 'skipped' : verified.report.ok ? 'passed' : 'failed');
  runtime.setOutput('deployment-id', deploymentId ?? '');
  if (!ok) runtime.setFailed(`Checks failed after applying ${inputs.environment}; its flag changes were reverted (see the job summary).`);
});
