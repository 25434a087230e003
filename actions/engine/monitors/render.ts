/** Health reports as text, markdown and JSON. */
import { describePosition } from '../stages/ladder.ts';
import type { BreachAction, HealthReport, MonitorResult } from './run-monitors.ts';
import type { HealthStatus } from './evaluate.ts';

const SYMBOL: Record<HealthStatus, string> = { healthy: '✓', breach: '✗', unknown: '?' };

export function renderHealthReport(report: HealthReport, format: 'text' | 'json' | 'markdown'): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const summary = `${report.environment}: ${report.status.toUpperCase()} — ${report.summary.healthy} healthy, ${report.summary.breach} breached, ${report.summary.unknown} unknown`;
  if (format === 'markdown') {
    const lines = [`### Health of \`${report.environment}\`: ${report.status}`, '', '| | Monitor | Severity | Measurement | Action |', '|---|---|---|---|---|'];
    for (const r of report.results) lines.push(`| ${SYMBOL[r.status]} | ${cell(r.name)} | ${r.severity} | ${cell(r.detail)} | ${cell(actionText(r))} |`);
    if (report.status === 'unknown') lines.push('', 'Unknown means no data or a failing query: it is never counted as healthy.');
    return lines.join('\n');
  }
  const lines = report.results.map((r) => {
    const action = actionText(r);
    return `${SYMBOL[r.status]} ${r.status.padEnd(7)} ${r.name} [${r.severity}] — ${r.detail}${action ? `\n          action: ${action}` : ''}`;
  });
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
