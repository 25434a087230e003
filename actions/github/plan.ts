/** The plan step: render once (renderPlanMarkdown), publish twice (job summary and sticky PR comment). */
import type { Environment } from '../engine/config/model.ts';
import type { Repository } from '../engine/config/repository.ts';
import { UsageError } from '../engine/errors.ts';
import { planFleet } from '../engine/fleet/plan.ts';
import { fleetSummaryLine, renderFleetPlan } from '../engine/fleet/render.ts';
import { withTargetSecrets } from '../engine/fleet/secrets.ts';
import { planOperation } from '../engine/operations.ts';
import { renderPlanMarkdown, summaryLine } from '../engine/render/plan.ts';
import { planMarker, stickyBody } from './comment.ts';
import { loadEnvironment } from '../engine/config/repository.ts';
import { databaseEnvFor } from './environment.ts';
import type { PlanInputs } from './inputs.ts';
import type { Runtime } from './runtime.ts';
import type { ScmClient } from './scm.ts';

/** What the plan action outputs, the same for one database and for a fleet. */
export interface PlanStepResult {
  /** The plan hash apply checks (a fleet's covers every target's). */
  hash: string;
  summary: string;
  hasChanges: boolean;
  /** Set when the plan cannot be applied as it stands: the step fails with it. */
  cannotApply: string | null;
  commentId: number | null;
}

interface Planned {
  markdown: string;
  result: Omit<PlanStepResult, 'commentId'>;
}

export async function planStep(inputs: PlanInputs, processEnv: NodeJS.ProcessEnv, runtime: Runtime, scm: () => ScmClient): Promise<PlanStepResult> {
  const { environment: env, repository } = loadEnvironment(inputs.root, inputs.environment);
  processEnv = databaseEnvFor(processEnv, inputs.root, env, inputs, repository);
  const { markdown: rendered, result } = env.fleet ? await planFleetEnvironment(inputs, env, repository, processEnv) : await planOneDatabase(inputs, env, repository, processEnv);
  const markdown = runtime.scrub(rendered);
  await runtime.summary(markdown);
  let commentId: number | null = null;
  if (inputs.comment && inputs.context.pullRequest !== null) {
    // One sticky comment per environment, a fleet's too: its groups, with every target in a collapsed list.
    const marker = planMarker(env.name);
    const posted = await scm().upsertComment(inputs.context.pullRequest, marker, stickyBody(marker, markdown, inputs.context.runUrl));
    runtime.info(`${posted.action === 'created' ? 'Posted' : 'Updated'} the plan comment for ${env.name} on #${inputs.context.pullRequest}.`);
    commentId = posted.id;
  }
  return { ...result, commentId };
}

async function planOneDatabase(inputs: PlanInputs, env: Environment, repository: Repository, processEnv: NodeJS.ProcessEnv): Promise<Planned> {
  const plan = await planOperation({ root: inputs.root, env, processEnv, commit: inputs.context.sha || null, repository });
  const summary = summaryLine(plan);
  return {
    markdown: renderPlanMarkdown(plan),
    result: {
      hash: plan.hash,
      summary,
      hasChanges: !plan.noop,
      cannotApply: plan.summary.blocked || plan.summary.refused > 0 ? `The plan for ${plan.environment} cannot be applied as it stands: ${summary}` : null,
    },
  };
}

async function planFleetEnvironment(inputs: PlanInputs, env: Environment, repository: Repository, processEnv: NodeJS.ProcessEnv): Promise<Planned> {
  if (inputs.databaseUrl !== null) {
    throw new UsageError(
      `Input database-url is for an environment of one database; ${env.name} is a fleet (${env.file} lists targets). Its targets' URLs come from the variables they name, or all at once from ROLLOUT_TARGET_SECRETS: \${{ toJSON(secrets) }} (docs/fleets.md).`,
    );
  }
  const plan = await planFleet({ root: inputs.root, env, processEnv: withTargetSecrets(processEnv), commit: inputs.context.sha || null, repository });
  const summary = fleetSummaryLine(plan);
  const s = plan.summary;
  return {
    markdown: renderFleetPlan(plan, 'markdown'),
    result: {
      hash: plan.hash,
      summary,
      hasChanges: !plan.noop,
      // As rollout plan says: a target that could not be planned would fail its apply.
      cannotApply: s.blocked || s.refused || s.unreachable || s.failed ? `The fleet plan for ${env.name} cannot be applied as it stands: ${summary}` : null,
    },
  };
}
