/**
 * A fleet's plan and apply report, rendered once per medium: text for terminals, markdown for
 * the PR comment and job summary (groups first, every target in a collapsible section), JSON
 * for scripts and for the workflow's aggregating job.
 */
import { formatDuration } from '../config/duration.ts';
import { renderPlan, renderPlanMarkdown, type PlanFormat } from '../render/plan.ts';
import { maskUrlCredentials } from '../secrets.ts';
import type { FleetApplyReport, TargetResult } from './apply.ts';
import { fleetTitle, type FleetPlan, type PlanGroup } from './plan.ts';
import { describeBudget } from './waves.ts';
import type { Plan } from '../plan/types.ts';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function renderFleetPlan(plan: FleetPlan, format: PlanFormat): string {
  if (format === 'json') return `${JSON.stringify(plan, null, 2)}\n`;
  return maskUrlCredentials(format === 'markdown' ? fleetPlanMarkdown(plan) : fleetPlanText(plan));
}

/** "196 targets: 2 migrations to apply, 3 flags to change; 3 targets: …; 1 target: unreachable" */
export function fleetSummaryLine(plan: FleetPlan): string {
  // A target blocked by an edited applied migration has nothing to apply, but is not at the desired state.
  if (plan.noop && plan.summary.blocked === 0) return `${plural(plan.summary.targets, 'target')}: no changes, live state matches Git.`;
  return `${plan.groups.map((g) => `${plural(g.targets.length, 'target')}: ${g.summary}`).join('; ')}.`;
}

function fleetPlanText(plan: FleetPlan): string {
  const out: string[] = [];
  out.push(`Fleet plan for ${fleetTitle(plan)}: ${plural(plan.summary.targets, 'target')} in ${plural(plan.waves.length, 'wave')}, plan ${plan.hash.slice(0, 12)}`);
  out.push(`  ${fleetSummaryLine(plan)}`);
  if (plan.summary.withMigrations) out.push(`  ${plural(plan.summary.withMigrations, 'target')} with migrations to apply.`);
  plan.groups.forEach((group, i) => {
    out.push('', `Group ${i + 1}: ${plural(group.targets.length, 'target')} — ${group.summary}`, `  ${listTargets(group.targets)}`);
    const sample = representative(plan, group);
    if (sample?.plan && shows(sample.plan)) out.push(...renderPlan(sample.plan, 'text').trimEnd().split('\n').map((line) => `  │ ${line}`));
    else if (sample?.error) out.push(`  │ ${sample.error.message}`);
  });
  out.push('', 'Waves:');
  for (const wave of plan.waves) out.push(`  ${wave.name}: ${listTargets(wave.targets)}`);
  return `${out.join('\n')}\n`;
}

/** A group's plan is worth showing when it changes something or says why apply refuses. */
const shows = (plan: Plan): boolean => !plan.noop || plan.summary.blocked;

function fleetPlanMarkdown(plan: FleetPlan): string {
  const out: string[] = [];
  out.push(`### rollout plan for fleet \`${fleetTitle(plan)}\``, '');
  out.push(`${plural(plan.summary.targets, 'target')} in ${plural(plan.waves.length, 'wave')}. Plan \`${plan.hash.slice(0, 12)}\`${plan.commit ? ` at commit \`${plan.commit.slice(0, 12)}\`` : ''}.`, '');
  out.push(fleetSummaryLine(plan));
  if (plan.summary.unreachable) out.push('', `> [!WARNING]\n> ${plural(plan.summary.unreachable, 'target')} could not be reached; apply fails them and counts them against their wave's budget.`);
  plan.groups.forEach((group, i) => {
    const sample = representative(plan, group);
    out.push('', `<details${i === 0 ? ' open' : ''}><summary>Group ${i + 1}: ${plural(group.targets.length, 'target')} — ${escapeHtml(group.summary)}</summary>`, '');
    if (sample?.plan && shows(sample.plan)) out.push(renderPlanMarkdown(sample.plan).replace(/^### .*\n/, `Plan of \`${sample.target}\`, the same for every target of this group:\n`));
    else if (sample?.error) out.push(`\`${sample.target}\`: ${escapeHtml(sample.error.message)}`);
    out.push('', `Targets: ${group.targets.map((t) => `\`${t}\``).join(', ')}`, '', '</details>');
  });
  out.push('', '<details><summary>Every target</summary>', '', '| target | wave | group | plan |', '| --- | --- | --- | --- |');
  const groupOf = new Map(plan.groups.flatMap((g, i) => g.targets.map((t) => [t, i + 1] as const)));
  for (const t of plan.targets) out.push(`| \`${t.target}\` | ${t.wave} | ${groupOf.get(t.target) ?? ''} | ${t.plan ? `\`${t.plan.hash.slice(0, 12)}\`` : t.error?.unreachable ? 'unreachable' : 'error'} |`);
  out.push('', '</details>');
  return `${out.join('\n')}\n`;
}

const representative = (plan: FleetPlan, group: PlanGroup) => plan.targets.find((t) => t.target === group.targets[0]);

function listTargets(names: readonly string[], max = 12): string {
  if (names.length === 0) return '(none)';
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} … and ${names.length - max} more`;
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export type ReportFormat = 'text' | 'markdown' | 'json';

export function renderFleetReport(report: FleetApplyReport, format: ReportFormat, now: Date = new Date()): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return maskUrlCredentials(format === 'markdown' ? fleetReportMarkdown(report) : fleetReportText(report, now));
}

const OUTCOME_MARK: Record<TargetResult['outcome'], string> = { applied: '✓', unchanged: '=', reverted: '↩', failed: '✗', untouched: '·' };

/** The headline of a fleet apply: where it got to, and why it stopped if it did. */
export function fleetReportHeadline(report: FleetApplyReport): string {
  const count = (outcome: TargetResult['outcome']): number => report.targets.filter((t) => t.outcome === outcome).length;
  const parts = [`${count('applied')} applied`, `${count('unchanged')} unchanged`];
  if (count('reverted')) parts.push(`${count('reverted')} failed checks (flags reverted)`);
  if (count('failed')) parts.push(`${count('failed')} failed`);
  if (count('untouched')) parts.push(`${count('untouched')} untouched`);
  const title = fleetTitle(report);
  if (report.stopped) return `${title}: STOPPED at wave ${report.stopped.wave}: ${report.stopped.failures} of ${report.stopped.targets} target(s) failed, over its budget. ${parts.join(', ')}.`;
  if (report.waiting) return `${title}: wave ${report.waiting.wave} waits for wave ${report.waiting.after} to soak until ${report.waiting.until}; rerun then. ${parts.join(', ')}.`;
  return `${title}: ${report.complete ? 'every target at the desired state' : 'done with failures within budget'}. ${parts.join(', ')}.`;
}

function fleetReportText(report: FleetApplyReport, now: Date): string {
  const out: string[] = [fleetReportHeadline(report)];
  for (const wave of report.waves) {
    const wait = wave.startsAt ? `, starts in ${formatDuration(Math.max(0, Date.parse(wave.startsAt) - now.getTime()))}` : '';
    out.push('', `Wave ${wave.name} (${plural(wave.targets, 'target')}, budget: ${describeBudget(wave.budget)}): ${wave.state}${wave.failures ? `, ${wave.failures} failed` : ''}${wait}`);
    for (const t of report.targets.filter((r) => r.wave === wave.name && r.outcome !== 'untouched')) out.push(`  ${OUTCOME_MARK[t.outcome]} ${t.target}: ${describeTarget(t)}`);
    const idle = report.targets.filter((r) => r.wave === wave.name && r.outcome === 'untouched').length;
    if (idle) out.push(`  · ${plural(idle, 'target')} untouched`);
  }
  const kept = report.targets.filter((t) => t.migrationsKept.length > 0);
  if (kept.length) {
    out.push('', 'Migrations are forward-only: these failed targets keep the migrations this run applied (fix forward):');
    for (const t of kept) out.push(`  ${t.target}: ${t.migrationsKept.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

function describeTarget(t: TargetResult): string {
  const parts: string[] = [t.outcome];
  if (t.migrationsApplied.length) parts.push(`${plural(t.migrationsApplied.length, 'migration')}`);
  if (t.flagChanges) parts.push(`${plural(t.flagChanges, 'flag change')}`);
  if (t.ledgerId !== null) parts.push(`ledger #${t.ledgerId}`);
  if (t.revert) parts.push(`reverted ${t.revert.flags.length} flag(s) in ledger #${t.revert.ledgerId}`);
  // "unchanged" alone would say the target matches Git; a held flag is kept apart on purpose (issue 13).
  for (const h of t.held ?? []) parts.push(`kept ${h.key} as ${h.by} set it (ledger #${h.ledgerId}): reconcile by PR`);
  return `${parts.join(', ')}${t.reason ? ` — ${t.reason}` : ''}`;
}

function fleetReportMarkdown(report: FleetApplyReport): string {
  const out: string[] = [`### rollout apply of fleet \`${fleetTitle(report)}\``, '', fleetReportHeadline(report), '', '| wave | targets | state | failed | budget |', '| --- | --- | --- | --- | --- |'];
  for (const wave of report.waves) out.push(`| ${wave.name} | ${wave.targets} | ${wave.state}${wave.startsAt ? ` (starts ${wave.startsAt})` : ''} | ${wave.failures} | ${describeBudget(wave.budget)} |`);
  const failed = report.targets.filter((t) => t.outcome === 'failed' || t.outcome === 'reverted');
  if (failed.length) {
    out.push('', '#### Failed targets', '', '| target | wave | what happened | migrations kept |', '| --- | --- | --- | --- |');
    for (const t of failed) out.push(`| \`${t.target}\` | ${t.wave} | ${escapeHtml(describeTarget(t)).replace(/\|/g, '\\|').replace(/\n/g, ' ')} | ${t.migrationsKept.map((m) => `\`${m}\``).join(', ')} |`);
  }
  const holding = report.targets.filter((t) => t.held?.length);
  if (holding.length) {
    out.push('', '#### Flags kept apart from Git', '', 'Set by break-glass or an automatic rollback; apply keeps them until a PR records them in Git.', '', '| target | flag | set by | ledger |', '| --- | --- | --- | --- |');
    for (const t of holding) for (const h of t.held!) out.push(`| \`${t.target}\` | \`${h.key}\` | ${h.by} | #${h.ledgerId} |`);
  }
  out.push('', '<details><summary>Every target</summary>', '', '| target | wave | outcome | migrations | flags | ledger |', '| --- | --- | --- | --- | --- | --- |');
  for (const t of report.targets) out.push(`| \`${t.target}\` | ${t.wave} | ${t.outcome} | ${t.migrationsApplied.length} | ${t.flagChanges} | ${t.ledgerHead ? `#${t.ledgerHead.id} \`${t.ledgerHead.hash.slice(0, 12)}\`` : ''} |`);
  out.push('', '</details>');
  return `${out.join('\n')}\n`;
}
