/** Health reports as text, markdown and JSON. */
import type { HealthReport, MonitorResult } from './run-monitors.ts';
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

export function actionText(r: MonitorResult): string {
  const a = r.action;
  if (!a) return '';
  if (a.kind === 'report') return 'reported';
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
