// The validate action: every environment file checked, problems annotated on their lines.
import { parseValidateInputs } from '../github/inputs.ts';
import { runAction } from '../github/run.ts';
import { targetMatrices, validateStep } from '../github/validate.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parseValidateInputs(process.env);
  const result = await validateStep(inputs, runtime, process.env.GITHUB_WORKSPACE ?? process.cwd());
  const matrices = targetMatrices(result.targets, result.affected, inputs.productionEnvironment, result.promotions);
  runtime.setOutput('environments', JSON.stringify(result.environments));
  runtime.setOutput('affected-environments', JSON.stringify(result.affected));
  runtime.setOutput('targets', JSON.stringify(result.targets));
  runtime.setOutput('apply-targets', JSON.stringify(matrices.applyTargets));
  runtime.setOutput('production-target', matrices.productionTarget ? JSON.stringify(matrices.productionTarget) : '');
  runtime.setOutput('plan-targets', JSON.stringify(matrices.planTargets));
  runtime.setOutput('promotions', JSON.stringify(matrices.promotions));
  if (inputs.context.eventName.startsWith('pull_request')) for (const name of matrices.unplannable) runtime.warning(`${name} is not planned on pull requests: its file names no database.readonly_url_env, and a pull request's job only ever holds read-only URLs.`);
  runtime.setOutput('errors', result.errors);
  runtime.setOutput('warnings', result.warnings);
  if (result.failed) runtime.setFailed(`${result.errors} error(s) and ${result.warnings} warning(s) in the environment files; each is annotated on its line.`);
});
