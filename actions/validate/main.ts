// The validate action: every environment file checked, problems annotated on their lines.
import { parseValidateInputs } from '../github/inputs.ts';
import { runAction } from '../github/run.ts';
import { validateStep } from '../github/validate.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parseValidateInputs(process.env);
  const result = await validateStep(inputs, runtime, process.env.GITHUB_WORKSPACE ?? process.cwd());
  runtime.setOutput('environments', JSON.stringify(result.environments));
  runtime.setOutput('affected-environments', JSON.stringify(result.affected));
  runtime.setOutput('errors', result.errors);
  runtime.setOutput('warnings', result.warnings);
  if (result.failed) runtime.setFailed(`${result.errors} error(s) and ${result.warnings} warning(s) in the environment files; each is annotated on its line.`);
});
