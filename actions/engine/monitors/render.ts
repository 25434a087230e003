/** Health reports as text, markdown and JSON. */
import { describePosition } from '../stages/ladder.ts';
import type { BreachAction, HealthReport, MonitorResult } from './run-monitors.ts';
import type { HealthStatus } from './evaluate.ts';
import type { GitSync } from '../render/git-sync.ts';

const SYMBOL: Record<HealthStatus, string> = { healthy: '✓', breach: '✗', unknown: '?' };

/**
 * The monitors' verdict, and beside it how live state stands against Git when that is known:
 * "HEALTHY" alone would be false while break-glass holds a kill switch or a flag drifted
 * (issue 13, defect 8). The verdict (and the exit code) stays the monitors'.
 */
export function renderHealthReport(report: HealthReport, format: 'text' | 'json' | 'markdown', sync?: GitSync): string {
  if (format === 'json') return JSON.stringify(sync ? { ...report, git: sync } : report, null, 2);
  const counts = `${report.summary.healthy} healthy, ${report.summary.breach} breached, ${report.summary.unknown} unknown`;
  const outOfSync = sync && !sync.inSync ? sync : undefined;
  if (format === 'markdown') {
    const title = outOfSync ? `monitors ${report.status}; live state differs from Git` : report.status;
    const lines = [`### Health of \`${report.environment}\`: ${title}`, '', '| | Monitor | Severity | Measurement | Action |', '|---|---|---|---|---|'];
    for (const r of report.results) lines.push(`| ${SYMBOL[r.status]} | ${cell(r.name)} | ${r.severity} | ${cell(r.detail)} | ${cell(actionText(r))} |`);
    if (report.status === 'unknown') lines.push('', 'Unknown means no data or a failing query: it is never counted as healthy.');
    if (outOfSync) lines.push('', `#### Live state vs Git: ${outOfSync.summary}`, '', ...outOfSync.lines.map((l) => `- ${cell(l)}`));
    return lines.join('\n');
  }
  const lines = report.results.map((r) => {
    const action = actionText(r);
    return `${SYMBOL[r.status]} ${r.status.padEnd(7)} ${r.name} [${r.severity}] — ${r.detail}${action ? `\n          action: ${action}` : ''}`;
  });
  if (outOfSync) lines.push('', `Live state vs Git: ${outOfSync.summary}`, ...outOfSync.lines.map((l) => `  ! ${l}`));
  const summary = outOfSync
    ? `${report.environment}: monitors ${report.status.toUpperCase()} — ${counts}; live state NOT IN SYNC with Git — ${outOfSync.summary}`
    : `${report.environment}: ${report.status.toUpperCase()} — ${counts}`;
  return [...lines, '', summary].join('\n');
}

/** Every action a breach took, one clause each, joined; '' when none. */
export function actionText(r: MonitorResult): string {
  const actions = r.actions ?? (r.action ? [r.action] : []);
  return actions.map(describeAction).join('; ');
}

export function describeAction(a: BreachAction): string {
  switch (a.kind) {
    case 'report':
      return 'reported';
    case 'kill_switch':
      return describeKillSwitch(a);
    case 'stage_rollback': {
      const move = `${a.flag} ${describePosition(a.from)} → ${describePosition(a.to)}`;
      if (a.outcome === 'rolled back') return `moved ${move} at once (auto-rollback, ledger #${a.ledgerId ?? '?'}); reconcile it into Git`;
      if (a.outcome === 'not run') return `would move ${move} (dry run)`;
      if (a.outcome === 'moved meanwhile') return `did not move ${a.flag}: an apply moved it since the measurement`;
      return `FAILED to move ${move}: ${a.message ?? ''}`;
    }
    default:
      if (a.outcome === 'sent') return `${a.target}: sent`;
      if (a.outcome === 'not run') return `would send ${a.target} (dry run)`;
      return `FAILED ${a.target}: ${a.message ?? ''}`;
  }
}

function describeKillSwitch(a: Extract<BreachAction, { kind: 'kill_switch' }>): string {
  const value = JSON.stringify(a.value);
  switch (a.outcome) {
    case 'tripped':
      return `kill switch ${a.flag} set to ${value} by break-glass (ledger #${a.ledgerId}); reconcile it into Git`;
    case 'already set':
      return `kill switch ${a.flag} was already ${value}`;
    case 'not run':
      return `would set kill switch ${a.flag} to ${value} (dry run)`;
    default:
      return `FAILED to set kill switch ${a.flag}: ${a.message ?? ''}`;
  }
}

const cell = (text: string): string => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
