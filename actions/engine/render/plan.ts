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
    const digest = digestLint(plan.migrations.pending);
    out.push('', c.bold(`Migrations (${plan.migrations.pending.length} pending, ${plan.migrations.appliedCount} applied)`));
    for (const m of plan.migrations.pending) {
      out.push(`  ${c.green('+')} ${m.file}${m.transactional ? '' : c.yellow('  [outside a transaction]')}`);
      // Errors stay under their file, every one: they are what a reviewer must act on.
      for (const e of digest.errors.get(m.file) ?? []) {
        out.push(`      ${c.red('error')} ${e.group.rule} (${describeLines(e.group.lines)}): ${e.group.message}`);
        if (e.group.help && e.firstOfRule) out.push(`        fix: ${e.group.help}`);
      }
    }
    if (digest.rules.length > 0) {
      out.push('', c.bold(`Lint warnings by rule (${plural(digest.rules.length, 'rule')} in ${plural(digest.warnedFiles, 'file')}; acknowledge one with -- squawk-ignore <rule> above its statement)`));
      for (const r of digest.rules) {
        const paint = r.lowRisk ? c.dim : c.yellow;
        out.push(`  ${paint(r.lowRisk ? 'low risk' : 'warning')} ${r.rule} in ${plural(r.files.length, 'file')}: ${r.message}`);
        if (r.help) out.push(`    fix: ${r.help}`);
        for (const f of r.files.slice(0, TEXT_FILES_PER_RULE)) {
          out.push(`    ${f.file} (${describeLines(f.lines)})`);
          if (f.lowRisk) out.push(c.dim(`      low risk: ${f.lowRisk}`));
        }
        const more = r.files.length - TEXT_FILES_PER_RULE;
        if (more > 0) out.push(c.dim(`    … and ${plural(more, 'more file')} (--format json lists every finding)`));
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
    const digest = digestLint(plan.migrations.pending);
    const pending = plan.migrations.pending;
    out.push('', `#### Migrations (${pending.length} pending)`);
    const table = ['| file | runs | lint |', '| --- | --- | --- |'];
    // Past TABLE_ROWS, only the rows that say something a reviewer must see: the rest is counted.
    const rows = pending.filter((m, i) => i < TABLE_ROWS || !m.transactional || digest.errors.has(m.file));
    for (const m of rows) table.push(`| \`${m.file}\` | ${m.transactional ? 'in a transaction' : '**outside a transaction**'} | ${unlinted ? 'not linted' : lintCount(digest.perFile.get(m.file) ?? [])} |`);
    if (pending.length <= OPEN_TABLE_ROWS) out.push('', ...table);
    else {
      // A long history's table is a list to look things up in, not to read: collapsed, with what matters in its summary.
      const outside = pending.filter((m) => !m.transactional).length;
      const rest = pending.length - rows.length;
      if (rest > 0) table.push('', `… and ${plural(rest, 'more migration')} in a transaction with no lint error (\`rollout plan\` lists every one).`);
      out.push('', `<details><summary>${plural(pending.length, 'pending migration')}${outside ? `, ${outside} outside a transaction` : ''}</summary>`, '', ...table, '', '</details>');
    }
    if (digest.errors.size > 0) {
      out.push('', 'Lint errors (squawk), per file. Acknowledge one with `-- squawk-ignore <rule>` above its statement.', '');
      for (const [file, errors] of digest.errors) {
        for (const e of errors) {
          out.push(`- ⛔ \`${file}\` ${describeLines(e.group.lines)}: **${e.group.rule}**: ${escapeCell(e.group.message)}`);
          if (e.group.help && e.firstOfRule) out.push(`  Fix: ${escapeCell(e.group.help)}`);
        }
      }
    }
    if (digest.rules.length > 0) {
      out.push('', `Lint warnings (squawk), by rule: ${plural(digest.rules.length, 'rule')} in ${plural(digest.warnedFiles, 'file')}. Acknowledge one with \`-- squawk-ignore <rule>\` above its statement.`, '');
      for (const r of digest.rules) {
        const mark = r.lowRisk ? '🟢 low risk' : '⚠️';
        if (r.files.length <= OPEN_RULE_FILES) {
          // A rule in a few files reads best open, as in a short plan.
          for (const [i, f] of r.files.entries()) {
            out.push(`- ${mark} \`${f.file}\` ${describeLines(f.lines)}: **${r.rule}**: ${escapeCell(r.message)}`);
            if (r.help && i === 0) out.push(`  Fix: ${escapeCell(r.help)}`);
            if (f.lowRisk) out.push(`  Low risk: ${escapeCell(f.lowRisk)}.`);
          }
          continue;
        }
        out.push(`<details><summary>${mark} <b>${escapeHtml(r.rule)}</b> in ${plural(r.files.length, 'file')}</summary>`, '', escapeCell(r.message), '');
        if (r.help) out.push(`Fix: ${escapeCell(r.help)}`, '');
        for (const f of r.files.slice(0, MARKDOWN_FILES_PER_RULE)) out.push(`- \`${f.file}\` ${describeLines(f.lines)}${f.lowRisk ? `: ${escapeCell(f.lowRisk)}` : ''}`);
        const more = r.files.length - MARKDOWN_FILES_PER_RULE;
        if (more > 0) out.push(`- … and ${plural(more, 'more file')} (\`rollout plan --format json\` lists every finding)`);
        out.push('', '</details>');
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

/** Files listed under one warning rule before "… and N more": the text stays readable, the comment within GitHub's limit. */
const TEXT_FILES_PER_RULE = 10;
const MARKDOWN_FILES_PER_RULE = 40;
/** A warning rule in at most this many files is shown open; more go in a collapsed block. */
const OPEN_RULE_FILES = 3;
/** Pending migrations shown as an open table; more go in a collapsed one. */
const OPEN_TABLE_ROWS = 20;
/** Rows of the collapsed table before only those outside a transaction or with an error are listed. */
const TABLE_ROWS = 200;

interface RuleDigest {
  rule: string;
  lowRisk: boolean;
  message: string;
  help?: string;
  files: Array<{ file: string; lines: number[]; lowRisk?: string }>;
}

interface LintDigest {
  /** Each file's groups, for its row in the table. */
  perFile: Map<string, LintGroup[]>;
  /** Errors per file, in file order; the fix hint is given at the first error of its rule. */
  errors: Map<string, Array<{ group: LintGroup; firstOfRule: boolean }>>;
  /** Warnings and low-risk findings, one entry per rule naming every file: a generated history repeats the same style rule in every file. */
  rules: RuleDigest[];
  warnedFiles: number;
}

function digestLint(pending: readonly PendingMigration[]): LintDigest {
  const perFile = new Map<string, LintGroup[]>();
  const errors = new Map<string, Array<{ group: LintGroup; firstOfRule: boolean }>>();
  const rules = new Map<string, RuleDigest>();
  const erred = new Set<string>();
  const warned = new Set<string>();
  for (const m of pending) {
    const groups = groupLintFindings(lintOf(m), m.file);
    perFile.set(m.file, groups);
    for (const g of groups) {
      if (!g.lowRisk && g.severity === 'error') {
        const list = errors.get(m.file) ?? [];
        list.push({ group: g, firstOfRule: !erred.has(g.rule) });
        erred.add(g.rule);
        errors.set(m.file, list);
        continue;
      }
      const key = `${g.rule}\u0000${g.lowRisk ? 'low' : 'risky'}`;
      let rule = rules.get(key);
      if (!rule) {
        rule = { rule: g.rule, lowRisk: Boolean(g.lowRisk), message: g.message, ...(g.help ? { help: g.help } : {}), files: [] };
        rules.set(key, rule);
      }
      rule.files.push({ file: m.file, lines: g.lines, ...(g.lowRisk ? { lowRisk: g.lowRisk } : {}) });
      warned.add(m.file);
    }
  }
  // Warnings before low risk; within each, the rule in most files first.
  const ordered = [...rules.values()].sort((a, b) => Number(a.lowRisk) - Number(b.lowRisk) || b.files.length - a.files.length || a.rule.localeCompare(b.rule));
  return { perFile, errors, rules: ordered, warnedFiles: warned.size };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const wrap = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
const ansi = { red: wrap(31), green: wrap(32), yellow: wrap(33), bold: wrap(1), dim: wrap(2) };
const identity = (s: string): string => s;
const plain = { red: identity, green: identity, yellow: identity, bold: identity, dim: identity };
