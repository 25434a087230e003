/**
 * The health step: monitors and drift for one environment, one issue per environment
 * (opened or updated on breach or drift, closed when green), and break-glass: a kill
 * switch set at once, then the PR that records it in Git.
 */
import { breakGlass, validateBreakGlass } from '../engine/breakglass/index.ts';
import { checkAccess } from '../engine/checks/index.ts';
import { renderHealthReport, runMonitors, type BreachAction, type HealthReport } from '../engine/monitors/index.ts';
import { readPlan } from '../engine/plan/read-plan.ts';
import type { Plan } from '../engine/plan/types.ts';
import { renderPlanMarkdown, summaryLine } from '../engine/render/plan.ts';
import { gitSync } from '../engine/render/git-sync.ts';
import type { Environment } from '../engine/config/model.ts';
import { clockFrom } from '../engine/promote/clock.ts';
import { readOnly, withSession } from '../engine/session.ts';
import { healthMarker, stickyBody } from './comment.ts';
import { databaseEnvFor, gatesFor, loadTarget, refuseFleet } from './environment.ts';
import type { HealthInputs } from './inputs.ts';
import { recordKillSwitch, recordStageRollback } from './record.ts';
import type { Runtime } from './runtime.ts';
import type { ScmClient } from './scm.ts';

export type HealthVerdict = 'healthy' | 'breach' | 'drift' | 'unknown' | 'break-glass';

export interface HealthStepResult {
  verdict: HealthVerdict;
  report: HealthReport | null;
  issue: number | null;
  pullRequests: number[];
}

const LABELS = ['rollout-health'];

export async function healthStep(inputs: HealthInputs, processEnv: NodeJS.ProcessEnv, workspace: string, runtime: Runtime, scm: () => ScmClient): Promise<HealthStepResult> {
  const env = loadTarget(inputs.root, inputs.environment);
  refuseFleet(env, 'health');
  processEnv = databaseEnvFor(processEnv, inputs.root, env, inputs);
  const actor = inputs.context.actor || 'github-actions';
  const record = { root: inputs.root, workspace, base: inputs.base, runUrl: inputs.context.runUrl };
  if (inputs.killSwitch !== null) {
    const request = { flag: inputs.killSwitch, reason: inputs.reason ?? '', actor, commit: inputs.context.sha || null, trigger: `github: workflow_dispatch by ${actor}`, root: inputs.root };
    validateBreakGlass(env, request); // refuse before connecting
    const result = await withSession(env, { root: inputs.root, processEnv, lock: false }, ({ client }) => breakGlass(client, env, request));
    runtime.info(result.ledgerId === null ? `${env.name}: ${result.flag} already is ${JSON.stringify(result.after)}.` : `${env.name}: ${result.flag} set to ${JSON.stringify(result.after)} by break-glass, ledger entry #${result.ledgerId}.`);
    const pr = await recordKillSwitch(scm(), { ...record, record: { environment: env.name, file: env.file, flag: result.flag, value: result.after, reason: request.reason, ledgerId: result.ledgerId, trigger: request.trigger } });
    await runtime.summary(`### rollout break-glass \`${env.name}\`\n\n\`${result.flag}\` = \`${JSON.stringify(result.after)}\` (was \`${JSON.stringify(result.before)}\`). Recorded in Git by PR #${pr}.\n`);
    return { verdict: 'break-glass', report: null, issue: null, pullRequests: [pr] };
  }

  const gates = await gatesFor(inputs.root, env, processEnv);
  const { report, plan } = await withSession(env, { root: inputs.root, processEnv, lock: false }, async (session) => {
    const measured = await runMonitors(env, {
      root: inputs.root,
      access: checkAccess(env, session.db),
      writer: () => session.writer(),
      actor,
      act: inputs.act,
      now: clockFrom(processEnv),
      processEnv,
      github: { apiUrl: inputs.context.apiUrl, repository: `${inputs.context.owner}/${inputs.context.repo}`, token: inputs.githubToken },
    });
    const client = await session.writer();
    const planned = await readOnly(client, () => readPlan(client, { root: inputs.root, env, processEnv, commit: inputs.context.sha || null, gates }));
    return { report: measured, plan: planned.plan };
  });
  const pullRequests: number[] = [];
  for (const result of report.results) {
    const action = result.action;
    if (action?.kind !== 'kill_switch' || action.outcome !== 'tripped') continue;
    const reason = `monitor ${result.name} breached: ${result.detail}`;
    pullRequests.push(await recordKillSwitch(scm(), { ...record, record: { environment: env.name, file: env.file, flag: action.flag, value: action.value, reason, ledgerId: action.ledgerId ?? null, trigger: `monitor: ${result.name}` } }));
  }
  pullRequests.push(...(await recordRollbacks(report, env, scm, record)));
  for (const warning of plan.ledger?.warnings ?? []) runtime.warning(`${env.name}: ${warning}`);
  const drift = plan.summary.drift > 0;
  const verdict: HealthVerdict = report.status === 'breach' ? 'breach' : drift ? 'drift' : report.status;
  const full = await showsMeasurements(inputs, scm, runtime);
  const markdown = runtime.scrub(full ? healthMarkdown(report, plan, drift) : healthSummaryMarkdown(report, plan, drift));
  await runtime.summary(markdown);
  const issue = inputs.issue ? await syncIssue(scm, env.name, verdict, markdown, inputs.context.runUrl, runtime, gitSync(plan).summary) : null;
  return { verdict, report, issue, pullRequests };
}

/** One PR per flag an exit criterion moved back (a flag two monitors moved is one PR). */
async function recordRollbacks(report: HealthReport, env: Environment, scm: () => ScmClient, record: { root: string; workspace: string; base: string; runUrl: string }): Promise<number[]> {
  const moved = new Map<string, { action: Extract<BreachAction, { kind: 'stage_rollback' }>; reasons: string[] }>();
  for (const result of report.results) {
    for (const action of result.actions ?? []) {
      if (action.kind !== 'stage_rollback' || action.outcome !== 'rolled back') continue;
      const held = moved.get(action.flag) ?? { action, reasons: [] };
      held.reasons.push(`monitor ${result.name} breached: ${result.detail}`);
      moved.set(action.flag, held);
    }
  }
  const numbers: number[] = [];
  for (const [flag, { action, reasons }] of moved) {
    numbers.push(await recordStageRollback(scm(), { ...record, record: { environment: env.name, file: env.file, flag, from: action.from, to: action.to, reason: reasons.join('; '), ledgerId: action.ledgerId ?? null } }));
  }
  return numbers;
}

/**
 * Measurements (values, live flag values in the drift) go only where the repository's own
 * readers see them: a public repository's issues and run summaries are public, so there they
 * show which monitors breached and how much drifted, not the numbers. `details` overrides.
 */
async function showsMeasurements(inputs: HealthInputs, scm: () => ScmClient, runtime: Runtime): Promise<boolean> {
  if (inputs.details !== 'auto') return inputs.details === 'full';
  const repository = inputs.context.event.repository as { private?: unknown; visibility?: unknown } | undefined;
  if (typeof repository?.visibility === 'string') return repository.visibility !== 'public';
  if (typeof repository?.private === 'boolean') return repository.private;
  try {
    return (await scm().repositoryVisibility()) !== 'public';
  } catch (thrown) {
    runtime.warning(`Could not tell whether the repository is public (${thrown instanceof Error ? thrown.message : String(thrown)}); the health report leaves the measurements out. Set details: full to show them.`);
    return false;
  }
}

/** The report without measurements: which monitors are healthy or breached, and whether anything drifted. */
export function healthSummaryMarkdown(report: HealthReport, plan: Plan, drift: boolean): string {
  const symbol = { healthy: '✓', breach: '✗', unknown: '?' } as const;
  const lines = [`### Health of \`${report.environment}\`: ${report.status}`, '', '| | Monitor | Severity | Status |', '|---|---|---|---|'];
  for (const r of report.results) lines.push(`| ${symbol[r.status]} | ${r.name.replace(/\|/g, '\\|')} | ${r.severity} | ${r.status} |`);
  lines.push('', 'Measurements are left out: this repository is public, and so are its issues and run summaries (the health action\'s `details: full` shows them).');
  lines.push('', drift ? `#### Drift\n\nLive state differs from Git: ${summaryLine(plan)}` : syncSection(plan));
  return `${lines.join('\n')}\n`;
}

export function healthMarkdown(report: HealthReport, plan: Plan, drift: boolean): string {
  const out = [renderHealthReport(report, 'markdown').trimEnd()];
  const warnings = plan.ledger?.warnings ?? [];
  if (warnings.length > 0) out.push('', '#### Ledger', '', ...warnings.map((w) => `> [!WARNING]\n> ${w}\n`));
  out.push('', drift ? `#### Drift\n\nLive state differs from Git: ${summaryLine(plan)}\n\n${renderPlanMarkdown(plan)}` : syncSection(plan));
  return `${out.join('\n').trimEnd()}\n`;
}

/** No drift: say so, but not "matches Git" while a hold keeps live apart from Git on purpose (issue 13, defect 8). */
function syncSection(plan: Plan): string {
  const sync = gitSync(plan);
  if (sync.inSync) return `#### Drift\n\nNone: live state matches Git (plan \`${plan.hash.slice(0, 12)}\`).`;
  return `#### Drift\n\nNone, but live state differs from Git on purpose: ${sync.summary}.\n\n${sync.lines.map((l) => `- ${l}`).join('\n')}`;
}

async function syncIssue(scm: () => ScmClient, environment: string, verdict: HealthVerdict, markdown: string, runUrl: string, runtime: Runtime, held: string): Promise<number | null> {
  const marker = healthMarker(environment);
  if (verdict === 'healthy') {
    const closed = await scm().closeIssue({ marker, labels: LABELS, comment: `${environment} is healthy again ${held ? `(${held}, until the reconcile PRs merge)` : 'and matches Git'} ([run](${runUrl})): closing.` });
    if (closed !== null) runtime.info(`Closed issue #${closed}: ${environment} is healthy.`);
    return closed;
  }
  if (verdict === 'unknown') {
    runtime.warning(`${environment}: some monitors could not be measured (no data or a failing query); the issue is left as it is.`);
    return null;
  }
  const title = verdict === 'breach' ? `rollout: ${environment} breaches its monitors` : `rollout: ${environment} drifted from Git`;
  const issue = await scm().upsertIssue({ marker, title, body: stickyBody(marker, `${markdown}\n[The run that found it](${runUrl})\n`, runUrl), labels: LABELS });
  runtime.info(`${issue.action === 'created' ? 'Opened' : 'Updated'} issue #${issue.number} for ${environment}.`);
  return issue.number;
}
