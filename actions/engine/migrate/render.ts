/** Terminal text for `migrate status` and `migrate plan`: pure functions of their data. */
import type { Problem } from '../problems.ts';
import { formatDuration } from '../config/duration.ts';
import type { MigrationStatus, MigrationPreview } from './run.ts';
import type { PreparedMigration } from './execute.ts';
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
    for (const finding of preview.lint.filter((f) => f.file === migration.file.path)) {
      lines.push(`       ${finding.severity.padEnd(7)} ${finding.line}:${finding.column} ${finding.message}`);
      if (finding.help) lines.push(`               ${finding.help}`);
    }
  }
  const errors = preview.lint.filter((f) => f.severity === 'error').length;
  if (preview.lint.length > 0) {
    lines.push(
      `Lint: ${errors} error(s), ${preview.lint.length - errors} warning(s) from squawk. Acknowledge a finding with a comment above the statement: -- squawk-ignore <rule>`,
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
