/**
 * Plans rendered once per medium: text for terminals, markdown for PR comments and
 * job summaries (one renderer feeds both), JSON for scripts.
 */
import { compactJson, formatDiffLine } from '../plan/json-diff.ts';
import { servingNotes } from './serving-notes.ts';
import { LINT_UNAVAILABLE, describeLines, groupLintFindings, type LintGroup } from '../migrate/lint.ts';
import type { FlagChange, LintFinding, PendingMigration, Plan, StoredPosition } from '../plan/types.ts';
import { maskUrlCredentials } from '../secrets.ts';
import { formatHeldLine } from '../plan/json-diff.ts';

export type PlanFormat = 'text' | 'markdown' | 'json';
export const PLAN_FORMATS: readonly PlanFormat[] = ['text', 'markdown', 'json'];

export function renderPlan(plan: Plan, format: PlanFormat, options: { color?: boolean } = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(plan, null, 2)}\n`;
    case 'markdown':
      return maskUrlCredentials(renderPlanMarkdown(plan));
    case 'text':
      return maskUrlCredentials(renderPlanText(plan, options.color ?? false));
  }
}

export function describePosition(position: StoredPosition | null): string {
  if (!position || position.stage === null) return '—';
  return position.stage === 'canary' && position.percent !== null ? `canary ${position.percent}%` : position.stage;
}

const ACTION_LABEL: Record<FlagChange['action'], string> = { add: 'add', change: 'change', remove: 'remove', hold: 'hold (break-glass)', reconcile: 'reconcile (break-glass value now in Git)' };
const actionLabel = (change: FlagChange): string => {
  if (!change.autoRollback) return ACTION_LABEL[change.action];
  return change.action === 'reconcile' ? 'reconcile (auto-rollback position now in Git)' : 'hold (auto-rollback)';
};

/** Why a flag an exit criterion moved back is held (or, once Git says the same, reconciled). */
export const autoRollbackText = (change: FlagChange, plan: Plan): string =>
  change.action === 'reconcile'
    ? `an exit criterion moved this flag back to ${describePosition(change.from)} (auto-rollback, ledger #${change.autoRollback?.ledgerId}) and ${plan.file} now says the same: apply records it, and forward moves are gated as usual again.`
    : `an exit criterion breached and moved this flag back to ${describePosition(change.from)} (auto-rollback, ledger #${change.autoRollback?.ledgerId}); apply keeps it there until Git says the same. Reconcile: set its rollout to ${describePosition(change.from)} in ${plan.file}, then move forward again once its criteria hold.`;

export function summaryLine(plan: Plan): string {
  if (plan.noop && plan.summary.hold === 0) {
    // An edited applied migration leaves nothing pending, but "No changes" above a blocker reads as all clear.
    const blocked = plan.migrations.blockers.length;
    if (blocked > 0) return `Nothing to apply, and apply is blocked by ${blocked} migration problem${blocked === 1 ? '' : 's'} (below).`;
    return 'No changes: live state matches Git.';
  }
  const parts: string[] = [];
  const s = plan.summary;
  if (s.migrations) parts.push(`${s.migrations} migration${s.migrations === 1 ? '' : 's'} to apply`);
  const flags = (n: number): string => `${n} flag${n === 1 ? '' : 's'}`;
  if (s.add) parts.push(`${flags(s.add)} to add`);
  if (s.change) parts.push(`${flags(s.change)} to change`);
  if (s.remove) parts.push(`${flags(s.remove)} to remove`);
  if (s.refused) parts.push(`${s.refused} stage move${s.refused === 1 ? '' : 's'} refused by gates`);
  if (s.hold) parts.push(`${s.hold} held by break-glass${plan.flags.some((f) => f.autoRollback && f.action === 'hold') ? ' or auto-rollback' : ''}`);
  if (s.reconcile) parts.push(`${s.reconcile} hold${s.reconcile === 1 ? '' : 's'} reconciled into Git`);
  if (s.drift) parts.push(`${s.drift} drifted`);
  return `${parts.join(', ')}.`;
}

function stageText(change: FlagChange): string {
  const staged = Boolean(change.from?.stage ?? change.to?.stage);
  if (!change.stageChanged || !staged) return describePosition(change.to ?? change.from);
  return `${describePosition(change.from)} → ${describePosition(change.to)}`;
}

function renderPlanText(plan: Plan, color: boolean): string {
  const c = color ? ansi : plain;
  const out: string[] = [];
  out.push(c.bold(`Plan for ${plan.environment} (${plan.file})`) + c.dim(`  hash ${plan.hash.slice(0, 12)}${plan.commit ? `  commit ${plan.commit.slice(0, 12)}` : ''}`));
  out.push(summaryLine(plan));
  const unlinted = lintUnavailable(plan);
  if (unlinted) out.push(c.yellow(`! ${unlinted}`));
  for (const warning of [...(plan.fileWarnings ?? []), ...(plan.ledger?.warnings ?? [])]) out.push(c.yellow(`⚠ ${warning}`));
  for (const blocker of plan.migrations.blockers) out.push(c.red(`✗ blocked: ${blocker}`));
  for (const warning of plan.migrations.warnings ?? []) out.push(c.yellow(`⚠ ${warning}`));
  if (plan.migrations.pending.length > 0) {
    out.push('', c.bold(`Migrations (${plan.migrations.pending.length} pending, ${plan.migrations.appliedCount} applied)`));
    for (const m of plan.migrations.pending) {
      out.push(`  ${c.green('+')} ${m.file}${m.transactional ? '' : c.yellow('  [outside a transaction]')}`);
      for (const g of groupLintFindings(lintOf(m), m.file)) {
        const paint = g.lowRisk ? c.dim : g.severity === 'error' ? c.red : c.yellow;
        out.push(`      ${paint(g.lowRisk ? 'low risk' : g.severity)} ${g.rule} (${describeLines(g.lines)}): ${g.message}`);
        if (g.help) out.push(`        fix: ${g.help}`);
        if (g.lowRisk) out.push(c.dim(`        low risk: ${g.lowRisk}`));
      }
    }
  }
  if (plan.flags.length > 0) {
    out.push('', c.bold(`Flags (${plan.flagTable})`));
    for (const change of plan.flags) {
      const sign = change.action === 'add' ? c.green('+') : change.action === 'remove' ? c.red('-') : change.action === 'hold' ? c.yellow('!') : c.yellow('~');
      const stage = change.from?.stage || change.to?.stage ? `  [${stageText(change)}]` : '';
      out.push(`  ${sign} ${c.bold(change.key)}  ${actionLabel(change)}${stage}`);
      if (change.action === 'add') out.push(`      = ${compactJson(change.after)}`);
      else if (change.action === 'remove') out.push(`      was ${compactJson(change.before)} (kept in the ledger)`);
      else for (const line of change.diff) out.push(`      ${change.action === 'hold' ? formatHeldLine(line) : formatDiffLine(line)}`);
      if (change.impact) out.push(`      who: ${change.impact.summary}`);
      for (const note of servingNotes(change, plan.flagTable)) out.push(`      ${note}`);
      if (change.drift) out.push(c.yellow(`      drift: live is ${compactJson(change.drift.live ?? undefined)}, rollout last wrote ${compactJson(change.drift.recorded ?? undefined)} (changed outside Git)`));
      if (change.breakGlass) out.push(c.yellow(breakGlassNote(change, plan.file, `ledger #${change.breakGlass.ledgerId}`)));
      if (change.autoRollback) out.push(c.yellow(`      ${autoRollbackText(change, plan)}`));
      for (const { passed, reason } of gateLines(change)) out.push(`      ${passed ? c.green('✓') : c.red('✗')} ${reason}`);
    }
  }
  if (plan.unmanaged.length > 0) {
    out.push('', c.dim(`Not managed by rollout (in ${plan.flagTable}, not in Git; left as is): ${plan.unmanaged.join(', ')}`));
  }
  return `${out.join('\n')}\n`;
}

/** One markdown document for both the PR comment and the job summary. */
export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [];
  out.push(`### rollout plan for \`${plan.environment}\``);
  out.push('');
  out.push(`${summaryLine(plan)} Plan \`${plan.hash.slice(0, 12)}\`${plan.commit ? ` at commit \`${plan.commit.slice(0, 12)}\`` : ''}.`);
  // A lint that could not run is said at the top: the table below would otherwise read as "all clear".
  const unlinted = lintUnavailable(plan);
  if (unlinted) out.push('', `> [!WARNING]\n> ${capitalize(unlinted)}. The pending migrations below were not checked for locks or rewrites.`);
  for (const warning of [...(plan.fileWarnings ?? []), ...(plan.ledger?.warnings ?? [])]) out.push('', `> [!WARNING]\n> ${warning}`);
  for (const blocker of plan.migrations.blockers) out.push('', `> [!CAUTION]\n> Apply is blocked: ${blocker}`);
  for (const warning of plan.migrations.warnings ?? []) out.push('', `> [!WARNING]\n> ${warning}`);
  if (plan.migrations.pending.length > 0) {
    out.push('', `#### Migrations (${plan.migrations.pending.length} pending)`, '', '| file | runs | lint |', '| --- | --- | --- |');
    const groups: LintGroup[] = [];
    for (const m of plan.migrations.pending) {
      const found = groupLintFindings(lintOf(m), m.file);
      groups.push(...found);
      out.push(`| \`${m.file}\` | ${m.transactional ? 'in a transaction' : '**outside a transaction**'} | ${unlinted ? 'not linted' : lintCount(found)} |`);
    }
    if (groups.length > 0) {
      out.push('', 'Lint findings (squawk), per file and rule. Acknowledge one with `-- squawk-ignore <rule>` above its statement.', '');
      for (const g of groups) {
        const mark = g.lowRisk ? '🟢 low risk' : g.severity === 'error' ? '⛔' : '⚠️';
        out.push(`- ${mark} \`${g.file}\` ${describeLines(g.lines)}: **${g.rule}**: ${escapeCell(g.message)}`);
        if (g.help) out.push(`  Fix: ${escapeCell(g.help)}`);
        if (g.lowRisk) out.push(`  Low risk: ${escapeCell(g.lowRisk)}.`);
      }
    }
  }
  if (plan.flags.length > 0) {
    out.push('', `#### Flags (\`${plan.flagTable}\`)`, '', '| flag | change | stage | value |', '| --- | --- | --- | --- |');
    for (const change of plan.flags) {
      const value =
        change.action === 'add'
          ? `\`${escapeCell(compactJson(change.after))}\``
          : change.action === 'remove'
            ? `was \`${escapeCell(compactJson(change.before))}\``
            : change.diff.map((l) => `\`${escapeCell(change.action === 'hold' ? formatHeldLine(l) : formatDiffLine(l))}\``).join('<br>');
      const notes: string[] = [...(change.impact ? [`**who:** ${change.impact.summary}`] : []), ...servingNotes(change, plan.flagTable)].map(escapeCell);
      if (change.drift) notes.push(`⚠️ drift: live \`${escapeCell(compactJson(change.drift.live ?? undefined))}\` was changed outside Git`);
      if (change.breakGlass) notes.push(`🚨 ${escapeCell(breakGlassNote(change, `\`${plan.file}\``, `ledger #${change.breakGlass.ledgerId}`).trim())}`);
      if (change.autoRollback) notes.push(`🚨 ${escapeCell(autoRollbackText(change, { ...plan, file: `\`${plan.file}\`` }))}`);
      for (const { passed, reason } of gateLines(change)) notes.push(`${passed ? '✓' : '✗'} ${escapeCell(reason)}`);
      out.push(`| \`${change.key}\` | ${actionLabel(change)} | ${stageText(change)} | ${[value, ...notes].filter(Boolean).join('<br>')} |`);
    }
  }
  if (plan.unmanaged.length > 0) {
    out.push('', `<details><summary>${plan.unmanaged.length} live flag(s) not managed by rollout</summary>`, '', plan.unmanaged.map((k) => `\`${k}\``).join(', '), '', '</details>');
  }
  return `${out.join('\n')}\n`;
}

/** What break-glass did to this flag and what apply does about it. */
function breakGlassNote(change: FlagChange, file: string, entry: string): string {
  if (change.action === 'reconcile') return `      break-glass (${entry}) set this value and ${file} now says the same: apply records it, and Git owns the flag again.`;
  if (change.to?.stage != null && change.to.stage !== 'full') {
    // A staged kill switch: "the same" is what every unit gets, not the value field alone.
    return `      break-glass (${entry}) set this value for every unit; apply keeps it until ${file} serves it to every unit too. Reconcile: set value (at full), or off_value (at off), or both (at dark or canary) to the live value.`;
  }
  return `      break-glass (${entry}) set this value; apply keeps it until Git says the same. Reconcile: put the live value in ${file}.`;
}

/** Each gate with its own verdict: a refused move still shows which gates it passed. */
function gateLines(change: FlagChange): Array<{ passed: boolean; reason: string }> {
  const gate = change.gate;
  if (!gate) return [];
  if (gate.gates.length === 0) return gate.reasons.map((reason) => ({ passed: gate.allowed, reason }));
  return [...gate.gates.filter((g) => !g.passed), ...gate.gates.filter((g) => g.passed)].map(({ passed, reason }) => ({ passed, reason }));
}

/** A migration's findings, without the marker of a lint that did not run. */
const lintOf = (m: PendingMigration): LintFinding[] => m.findings.filter((f) => f.rule !== LINT_UNAVAILABLE);

/** Why lint did not run, when it did not. */
function lintUnavailable(plan: Plan): string | undefined {
  for (const m of plan.migrations.pending) for (const f of m.findings) if (f.rule === LINT_UNAVAILABLE) return f.message;
  return undefined;
}

function lintCount(groups: readonly LintGroup[]): string {
  if (groups.length === 0) return '✓';
  const n = (label: string, count: number): string[] => (count > 0 ? [`${count} ${label}`] : []);
  const errors = groups.filter((g) => !g.lowRisk && g.severity === 'error').length;
  const warnings = groups.filter((g) => !g.lowRisk && g.severity === 'warning').length;
  const low = groups.filter((g) => g.lowRisk).length;
  return [...n('⛔', errors), ...n('⚠️', warnings), ...n('🟢 low risk', low)].join(' · ');
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const wrap = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
const ansi = { red: wrap(31), green: wrap(32), yellow: wrap(33), bold: wrap(1), dim: wrap(2) };
const identity = (s: string): string => s;
const plain = { red: identity, green: identity, yellow: identity, bold: identity, dim: identity };
