/** Terminal text for `migrate status` and `migrate plan`: pure functions of their data. */
import type { Problem } from '../problems.ts';
import { formatDuration } from '../config/duration.ts';
import type { MigrationStatus, MigrationPreview } from './run.ts';
import type { PreparedMigration } from './execute.ts';
import { LINT_UNAVAILABLE, describeLines, groupLintFindings } from './lint.ts';
import type { AdoptionPlan } from './adopt-plan.ts';

export function renderStatus(status: MigrationStatus, environment: string): string[] {
  const counts = { applied: 0, pending: 0, changed: 0, missing: 0, failed: 0 };
  for (const entry of status.plan.entries) counts[entry.state] += 1;
  const lines = [
    `Migrations of ${environment}: ${counts.applied} applied, ${counts.pending} pending, ${counts.changed} changed, ${counts.missing} missing, ${counts.failed} failed`,
  ];
  for (const entry of status.plan.entries) {
    const record = entry.record;
    const when = record ? ` ${record.appliedAt.toISOString().replace('T', ' ').slice(0, 16)} by ${record.appliedBy}` : '';
    const took = !record
      ? ''
      : record.execution === 'baseline'
        ? ' (baseline)'
        : record.execution === 'adopted'
          ? ` (adopted from ${record.adoptedFrom ?? 'another tool'})`
          : ` (${formatDuration(record.durationMs)})`;
    const order = entry.outOfOrder ? ' (out of order)' : '';
    lines.push(`  ${entry.state.padEnd(8)} ${entry.path}${order}${when}${took}`);
  }
  return [...lines, ...renderProblems(status.problems)];
}

export function renderPreview(preview: MigrationPreview, environment: string): string[] {
  const lines: string[] = [];
  if (preview.prepared.length === 0) lines.push(`No pending migrations for ${environment}.`);
  else lines.push(`${preview.prepared.length} pending migration(s) for ${environment}:`);
  for (const [i, migration] of preview.prepared.entries()) {
    lines.push(`  ${i + 1}. ${migration.file.path}  ${describeExecution(migration)}`);
    const findings = preview.lint.filter((f) => f.file === migration.file.path && f.rule !== LINT_UNAVAILABLE);
    for (const group of groupLintFindings(findings)) {
      // One line per rule: a single finding keeps its line:column, several list their lines.
      const single = findings.find((f) => f.rule === group.rule && group.lines.length === 1 && f.line === group.lines[0]);
      const where = single ? `${single.line}:${single.column}` : describeLines(group.lines);
      lines.push(`       ${(group.lowRisk ? 'low-risk' : group.severity).padEnd(7)} ${where} ${group.message} (${group.rule})`);
      if (group.help) lines.push(`               fix: ${group.help}`);
      if (group.lowRisk) lines.push(`               low risk: ${group.lowRisk}`);
    }
  }
  const unavailable = preview.lint.find((f) => f.rule === LINT_UNAVAILABLE);
  if (unavailable) lines.splice(1, 0, `  ! ${unavailable.message}`);
  const linted = preview.lint.filter((f) => f.rule !== LINT_UNAVAILABLE);
  const errors = linted.filter((f) => f.severity === 'error').length;
  if (linted.length > 0) {
    lines.push(
      `Lint: ${errors} error(s), ${linted.length - errors} warning(s) from squawk. Acknowledge a finding with a comment above the statement: -- squawk-ignore <rule>`,
    );
  }
  return [...lines, ...renderProblems(preview.problems)];
}

/** `migrate adopt`: one line per file (and per row without a file), the problems, and what was or would be recorded. */
export function renderAdoption(plan: AdoptionPlan, environment: string, recorded: number, write: boolean): string[] {
  const adopt = plan.entries.filter((e) => e.state === 'adopt').length;
  const lines = [`Adopting the ${plan.source} history in ${plan.table} for ${environment}:`];
  for (const entry of plan.entries) lines.push(`  ${entry.state.padEnd(8)} ${entry.file?.path ?? entry.foreign?.key ?? '?'}  ${entry.note}`);
  lines.push(...renderProblems(plan.problems));
  const blocked = plan.problems.some((p) => p.severity === 'error');
  if (blocked) lines.push(`Nothing recorded: fix the problems above and run adopt again (it records all ${adopt} adoptable migration(s) at once, or none).`);
  else if (write) lines.push(`Recorded ${recorded} migration(s) as adopted from ${plan.source} in rollout.schema_migrations of ${environment} (nothing was run).`);
  else if (adopt > 0) lines.push(`Read-only: would record ${adopt} migration(s) as adopted. Run again with --write to record them.`);
  else lines.push('Nothing to adopt.');
  return lines;
}

export function describeExecution(migration: PreparedMigration): string {
  switch (migration.execution) {
    case 'transaction':
      return '(one transaction)';
    case 'script':
      return '(as written: the file has its own BEGIN/COMMIT)';
    case 'statements':
      return `(outside a transaction, statement by statement: ${migration.reasons.join('; ')})`;
  }
}

export function renderProblems(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`);
}
