// The health action: monitors and drift, one issue per environment; or break-glass with kill-switch.
import { healthStep } from '../github/health.ts';
import { parseHealthInputs } from '../github/inputs.ts';
import { runAction } from '../github/run.ts';
import { lazyScm } from '../github/scm.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parseHealthInputs(process.env);
  const result = await healthStep(inputs, process.env, process.env.GITHUB_WORKSPACE ?? process.cwd(), runtime, lazyScm(inputs.githubToken, inputs.context));
  runtime.setOutput('status', result.verdict);
  runtime.setOutput('issue-number', result.issue ?? '');
  runtime.setOutput('pull-requests', JSON.stringify(result.pullRequests));
  if (result.verdict === 'breach') runtime.setFailed(`${inputs.environment} breaches its monitors (see the job summary and the issue).`);
});
