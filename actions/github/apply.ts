/**
 * The apply step: a GitHub deployment around the engine's apply (refusing a stale plan),
 * then the checks while the lock is held; the deployment's status says how it ended.
 */
import type { ApplyResult } from '../engine/apply/apply-environment.ts';
import { renderCheckReport, type VerifyAfterApplyResult } from '../engine/checks/index.ts';
import { applyOperation } from '../engine/operations.ts';
import { describeExport, type ExportWrite } from '../engine/export/export-file.ts';
import { renderPlanMarkdown } from '../engine/render/plan.ts';
import { loadEnvironment } from '../engine/config/repository.ts';
import { databaseEnvFor, refuseFleet } from './environment.ts';
import type { ApplyInputs } from './inputs.ts';
import type { Runtime } from './runtime.ts';
import type { DeploymentState, ScmClient } from './scm.ts';

export interface ApplyStepResult {
  result: ApplyResult;
  verified: VerifyAfterApplyResult | null;
  deploymentId: number | null;
  /** False when the checks after apply failed (and its flag changes were reverted). */
  ok: boolean;
}

export async function applyStep(inputs: ApplyInputs, processEnv: NodeJS.ProcessEnv, runtime: Runtime, scm: () => ScmClient): Promise<ApplyStepResult> {
  const { environment: env, repository } = loadEnvironment(inputs.root, inputs.environment);
  refuseFleet(env, 'apply');
  processEnv = databaseEnvFor(processEnv, inputs.root, env, inputs, repository);
  const { context } = inputs;
  const deploymentId = inputs.deployment
    ? await scm().createDeployment({ ref: context.sha, environment: env.name, description: `rollout apply ${env.name}`, production: !env.promotesTo })
    : null;
  const setStatus = async (state: DeploymentState, description: string): Promise<void> => {
    if (deploymentId !== null) await scm().setDeploymentStatus(deploymentId, state, { description, logUrl: context.runUrl });
  };
  await setStatus('in_progress', `applying ${env.name}`);
  try {
    const actor = context.actor || 'github-actions';
    const { result, verified, ledgerHead, exported } = await applyOperation({
      root: inputs.root,
      env,
      repository,
      processEnv,
      commit: context.sha || null,
      actor,
      pullRequest: context.pullRequest,
      verify: inputs.verify,
      ...(inputs.adopt ? { adopt: true } : {}),
      ...(inputs.planHash ? { planHash: inputs.planHash } : {}),
    });
    const ok = verified === null || verified.report.ok;
    await runtime.summary(runtime.scrub(applyMarkdown(env.name, result, verified, ledgerHead, exported)));
    // A stale export file is reported, never hidden: the services that read it would be served old definitions.
    if (exported?.failure !== undefined) runtime.warning(describeExport(exported, env));
    // The head hash, published where the database cannot rewrite it: rollout audit --head checks it later.
    const head = ledgerHead ? `; ledger head #${ledgerHead.id} ${ledgerHead.hash.slice(0, 16)}` : '';
    await setStatus(ok ? 'success' : 'failure', `${ok ? `applied plan ${result.plan.hash.slice(0, 12)}` : 'checks failed after apply; flag changes reverted'}${head}`);
    return { result, verified, deploymentId, ok };
  } catch (thrown) {
    await setStatus('error', 'apply failed; see the run log').catch((cleanup: unknown) => runtime.warning(`Could not mark deployment ${deploymentId} as failed: ${String(cleanup)}`));
    throw thrown;
  }
}

export function applyMarkdown(
  environment: string,
  result: ApplyResult,
  verified: VerifyAfterApplyResult | null,
  ledgerHead: { id: number; hash: string } | null = null,
  exported: ExportWrite | null = null,
): string {
  const out: string[] = [];
  out.push(
    result.ledgerId === null
      ? `### rollout apply \`${environment}\`: nothing to apply\n\nLive state already matches Git (plan \`${result.plan.hash.slice(0, 12)}\`).`
      : `### rollout apply \`${environment}\`: applied\n\nLedger entry #${result.ledgerId}; ${result.migrationsApplied.length} migration(s), ${result.flagChanges.length} flag change(s).`,
  );
  if (result.ledgerId !== null) out.push('', '<details><summary>The plan that was applied</summary>', '', renderPlanMarkdown(result.plan), '</details>');
  if (verified) {
    out.push('', renderCheckReport(verified.report, 'markdown'));
    if (!verified.report.ok) {
      out.push('', verified.revert ? `> [!CAUTION]\n> Checks failed, so this apply's flag changes were reverted (ledger entry #${verified.revert.ledgerId}). Migrations are forward-only and were kept.` : '> [!CAUTION]\n> Checks failed; this apply changed no flags, so nothing was reverted.');
      // Rollbacks, flags turned off and kill-switch trips of the same apply stay (checks/revert-policy.ts).
      for (const k of verified.revert?.kept ?? []) out.push(`> - kept \`${k.key}\`: ${k.reason}`);
    }
  }
  if (exported) out.push('', exported.failure !== undefined ? `> [!WARNING]\n> ${describeExport(exported, { name: environment })}` : describeExport(exported, { name: environment }));
  if (ledgerHead) {
    out.push('', `Ledger head: #${ledgerHead.id} \`${ledgerHead.hash}\` — keep it: \`rollout audit --env ${environment} --head ${ledgerHead.hash}\` shows whether the ledger was rewritten since.`);
  }
  return `${out.join('\n')}\n`;
}
