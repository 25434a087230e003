// The verify action: an environment's checks against its live system, read-only.
import { parseVerifyInputs } from '../github/inputs.ts';
import { runAction } from '../github/run.ts';
import { verifyStep } from '../github/verify.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parseVerifyInputs(process.env);
  const report = await verifyStep(inputs, process.env, runtime);
  runtime.setOutput('ok', report.ok);
  runtime.setOutput('passed', report.summary.pass);
  runtime.setOutput('failed', report.summary.fail + report.summary.error);
  if (!report.ok) runtime.setFailed(`Checks failed in ${report.environment} (see the job summary).`);
});
