/** The plan step: render once (renderPlanMarkdown), publish twice (job summary and sticky PR comment). */
import { planOperation } from '../engine/operations.ts';
import type { Plan } from '../engine/plan/types.ts';
import { renderPlanMarkdown } from '../engine/render/plan.ts';
import { planMarker, stickyBody } from './comment.ts';
import { loadEnvironment } from '../engine/config/repository.ts';
import { databaseEnvFor } from './environment.ts';
import type { PlanInputs } from './inputs.ts';
import type { Runtime } from './runtime.ts';
import type { ScmClient } from './scm.ts';

export interface PlanStepResult {
  plan: Plan;
  commentId: number | null;
}

export async function planStep(inputs: PlanInputs, processEnv: NodeJS.ProcessEnv, runtime: Runtime, scm: () => ScmClient): Promise<PlanStepResult> {
  const { environment: env, repository } = loadEnvironment(inputs.root, inputs.environment);
  processEnv = databaseEnvFor(processEnv, inputs.root, env, inputs, repository);
  const plan = await planOperation({ root: inputs.root, env, processEnv, commit: inputs.context.sha || null, repository });
  const markdown = runtime.scrub(renderPlanMarkdown(plan));
  await runtime.summary(markdown);
  let commentId: number | null = null;
  if (inputs.comment && inputs.context.pullRequest !== null) {
    const marker = planMarker(env.name);
    const posted = await scm().upsertComment(inputs.context.pullRequest, marker, stickyBody(marker, markdown, inputs.context.runUrl));
    runtime.info(`${posted.action === 'created' ? 'Posted' : 'Updated'} the plan comment for ${env.name} on #${inputs.context.pullRequest}.`);
    commentId = posted.id;
  }
  return { plan, commentId };
}
