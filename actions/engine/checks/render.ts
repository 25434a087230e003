/** Check reports as text (terminal), markdown (PR comments, job summaries), JSON and JUnit XML (CI test tabs). */
import { formatDuration } from '../config/duration.ts';
import type { CheckReport, CheckResult, CheckStatus } from './types.ts';

export type ReportFormat = 'text' | 'json' | 'markdown';

const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✗', error: '!', skipped: '-' };
const WORD: Record<CheckStatus, string> = { pass: 'pass', fail: 'FAIL', error: 'ERROR', skipped: 'skip' };

export function renderCheckReport(report: CheckReport, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  if (format === 'markdown') return renderMarkdown(report);
  return renderText(report);
}

export function summaryText(report: CheckReport): string {
  const { pass, fail, error, skipped } = report.summary;
  const parts = [`${pass} passed`, fail ? `${fail} failed` : '', error ? `${error} errored` : '', skipped ? `${skipped} skipped` : ''].filter(Boolean);
  return `${report.results.length} check(s) on ${report.environment}: ${parts.join(', ')} in ${formatDuration(report.durationMs)}`;
}

function renderText(report: CheckReport): string {
  const lines: string[] = [];
  for (const r of report.results) {
    lines.push(`${SYMBOL[r.status]} ${WORD[r.status].padEnd(5)} ${r.name} (${formatDuration(r.durationMs)}) — ${r.detail}`);
    if (r.status === 'fail' || r.status === 'error') {
      if (r.query) lines.push(`        query:    ${oneLine(r.query)}`);
      if (r.url) lines.push(`        url:      ${r.url}`);
      if (r.expected) lines.push(`        expected: ${r.expected}`);
      if (r.actual) lines.push(`        actual:   ${r.actual}`);
      for (const v of r.violations ?? []) lines.push(`        row ${JSON.stringify(v.key)}: ${v.errors.join('; ')}`);
      lines.push(`        declared in ${r.source}`);
    }
  }
  lines.push('', summaryText(report));
  for (const warning of report.warnings ?? []) lines.push(`warning: ${warning}`);
  return lines.join('\n');
}

function renderMarkdown(report: CheckReport): string {
  const lines = [`### Checks on \`${report.environment}\`: ${report.ok ? 'all passed' : 'failing'}`, '', summaryText(report), '', '| | Check | Time | Result |', '|---|---|---|---|'];
  for (const r of report.results) lines.push(`| ${SYMBOL[r.status]} | ${cell(r.name)} | ${formatDuration(r.durationMs)} | ${cell(r.detail)} |`);
  const failing = report.results.filter((r) => r.status === 'fail' || r.status === 'error');
  for (const r of failing) {
    lines.push('', `<details><summary>${escapeHtml(r.name)}: ${WORD[r.status]}</summary>`, '');
    if (r.query) lines.push('```sql', r.query.replace(/```/g, '` ` `'), '```');
    if (r.url) lines.push(`URL: \`${r.url}\``, '');
    if (r.expected) lines.push(`- expected: ${cell(r.expected)}`);
    if (r.actual) lines.push(`- actual: ${cell(r.actual)}`);
    for (const v of r.violations ?? []) lines.push(`- row \`${JSON.stringify(v.key)}\`: ${cell(v.errors.join('; '))}`);
    lines.push(`- declared in \`${r.source}\``, '', '</details>');
  }
  for (const warning of report.warnings ?? []) lines.push('', `> [!WARNING]\n> ${warning}`);
  return lines.join('\n');
}

/** JUnit XML: one testsuite per environment, one testcase per check. */
export function renderJunit(report: CheckReport): string {
  const { fail, error, skipped } = report.summary;
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rollout verify" tests="${report.results.length}" failures="${fail}" errors="${error}" skipped="${skipped}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="${xml(report.environment)}" tests="${report.results.length}" failures="${fail}" errors="${error}" skipped="${skipped}" time="${seconds(report.durationMs)}">`,
  ];
  for (const r of report.results) {
    const open = `    <testcase name="${xml(r.name)}" classname="rollout.${xml(report.environment)}" file="${xml(r.source)}" time="${seconds(r.durationMs)}"`;
    if (r.status === 'pass') {
      out.push(`${open}/>`);
      continue;
    }
    out.push(`${open}>`);
    if (r.status === 'skipped') out.push(`      <skipped message="${xml(r.detail)}"/>`);
    else {
      const tag = r.status === 'fail' ? 'failure' : 'error';
      out.push(`      <${tag} message="${xml(r.detail)}" type="${r.kind}">${xml(failureBody(r))}</${tag}>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

function failureBody(r: CheckResult): string {
  return [r.query ? `query: ${r.query}` : '', r.url ? `url: ${r.url}` : '', r.expected ? `expected: ${r.expected}` : '', r.actual ? `actual: ${r.actual}` : '', ...(r.violations ?? []).map((v) => `row ${JSON.stringify(v.key)}: ${v.errors.join('; ')}`)]
    .filter(Boolean)
    .join('\n');
}

// eslint-disable-next-line no-control-regex
const xml = (text: string): string => text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cell = (text: string): string => escapeHtml(oneLine(text)).replace(/\|/g, '\\|');
const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
