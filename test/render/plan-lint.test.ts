/**
 * The plan on a long pending history (a Prisma project planned on a fresh database): errors
 * stay complete under their files, the same style warning repeated in a hundred generated
 * files is one entry naming the rule, its fix once and the files with their lines, and the
 * PR comment fits in GitHub's body limit.
 */
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../actions/engine/plan/planner.ts';
import type { LintFinding, PendingMigration } from '../../actions/engine/plan/types.ts';
import { renderPlan } from '../../actions/engine/render/plan.ts';
import { BODY_LIMIT, planMarker, stickyBody } from '../../actions/github/comment.ts';
import type { Environment } from '../../actions/engine/config/model.ts';
import { DEFAULT_MIGRATION_SETTINGS } from '../../actions/engine/config/model.ts';

const TZ = { rule: 'prefer-timestamp-tz', severity: 'warning' as const, message: 'When Postgres stores a datetime in a `timestamp` field, Postgres drops the UTC offset.', help: 'Use `timestamptz` instead of `timestamp` for your column type.' };
const TEXT = { rule: 'prefer-text-field', severity: 'warning' as const, message: 'Changing the size of a `varchar` field requires an `ACCESS EXCLUSIVE` lock.', help: 'Use a `TEXT` field with a `CHECK` constraint.' };
const INT = { rule: 'prefer-bigint-over-int', severity: 'warning' as const, message: 'Using 32-bit integer fields can result in hitting the max `int` limit.', help: 'Use 64-bit integer values instead to prevent hitting this limit.' };
const NOT_NULL = { rule: 'adding-required-field', severity: 'error' as const, message: 'Adding a new column that is `NOT NULL` and has no default value to an existing table effectively makes it required.', help: 'Make the field nullable or add a non-VOLATILE DEFAULT' };
const INDEX = { rule: 'require-concurrent-index-creation', severity: 'error' as const, message: 'During normal index creation, table updates are blocked, but reads are still allowed.', help: 'Use `concurrently` to avoid blocking writes.' };

/** Prisma-shaped: every CreateTable warns of timestamps, many of varchar and int; every 10th file adds a required column, every 7th an index on a table of this set (low risk). */
function history(count: number): PendingMigration[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const file = `prisma/migrations/2023${String(n).padStart(10, '0')}_step_${n}/migration.sql`;
    const findings: LintFinding[] = [
      { ...TZ, line: 4 },
      { ...TZ, line: 5 },
      ...(n % 2 === 0 ? [{ ...TEXT, line: 6 }] : []),
      ...(n % 3 === 0 ? [{ ...INT, line: 7 }] : []),
      ...(n % 10 === 0 ? [{ ...NOT_NULL, line: 12 }] : []),
      ...(n % 7 === 0 ? [{ ...INDEX, line: 15, lowRisk: `public.t${n} is created by prisma/migrations/step_${n - 1}/migration.sql in this same set of pending migrations, so nothing reads or writes it yet` }] : []),
    ];
    return { version: String(n), name: `step_${n}`, file, checksum: 'x', transactional: n % 25 !== 0, findings };
  });
}

const env: Environment = {
  name: 'staging',
  file: 'environments/staging.yaml',
  database: { kind: 'url', urlEnv: 'X' },
  migrations: DEFAULT_MIGRATION_SETTINGS,
  flags: new Map(),
  checks: [],
  monitors: [],
};

const planOf = (pending: PendingMigration[]) =>
  buildPlan({ desired: env, live: { flagTable: 'rollout.flags', flagTableExists: true, flags: new Map(), rollouts: new Map() }, migrations: { appliedCount: 0, pending, blockers: [] }, commit: null });

const count = (text: string, part: string): number => text.split(part).length - 1;

describe('the plan of a long pending history', () => {
  const pending = history(150);
  const errorFiles = pending.filter((m) => m.findings.some((f) => f.severity === 'error' && !f.lowRisk)).map((m) => m.file);

  it('PR comment: every error under its file; each warning rule once, with its fix once, in a collapsed block with a count; within the body limit', () => {
    const md = renderPlan(planOf(pending), 'markdown');
    expect(errorFiles).toHaveLength(15);
    for (const file of errorFiles) expect(md).toContain(`- ⛔ \`${file}\` line 12: **adding-required-field**`);
    // The fix of a rule is said once, not per file.
    expect(count(md, NOT_NULL.help)).toBe(1);
    expect(count(md, TZ.help)).toBe(1);
    expect(count(md, TZ.message)).toBe(1);
    expect(md).toContain('<details><summary>⚠️ <b>prefer-timestamp-tz</b> in 150 files</summary>');
    expect(md).toContain('<details><summary>⚠️ <b>prefer-text-field</b> in 75 files</summary>');
    expect(md).toContain('<details><summary>🟢 low risk <b>require-concurrent-index-creation</b> in 21 files</summary>');
    expect(md).toContain('- … and 110 more files (`rollout plan --format json` lists every finding)');
    // The errors come before the collapsed warnings, so a cut could never drop them.
    expect(md.lastIndexOf('⛔')).toBeLessThan(md.indexOf('Lint warnings'));
    // The table of 150 files is collapsed, saying what matters in its summary.
    expect(md).toContain('<details><summary>150 pending migrations, 6 outside a transaction</summary>');
    expect(md.length).toBeLessThan(BODY_LIMIT / 2);
    expect(stickyBody(planMarker('staging'), md, 'https://example.invalid/summary')).not.toContain('Cut short');
  });

  it('stays within the limit at 600 files, where only the errors grow', () => {
    const md = renderPlan(planOf(history(600)), 'markdown');
    expect(count(md, '- ⛔')).toBe(60);
    expect(md.length).toBeLessThan(BODY_LIMIT);
    // Rows past the 200th are listed only when they run outside a transaction or have an error.
    expect(md).toContain('| `prisma/migrations/20230000000575_step_575/migration.sql` | **outside a transaction** |');
    expect(md).toContain('| `prisma/migrations/20230000000590_step_590/migration.sql` | in a transaction | 1 ⛔ · 2 ⚠️ |');
    expect(md).not.toContain('`prisma/migrations/20230000000591_step_591/migration.sql` |');
    expect(md).toContain('… and 352 more migrations in a transaction with no lint error (`rollout plan` lists every one).');
  });

  it('terminal: errors under their files, warnings grouped by rule with at most ten files each', () => {
    const text = renderPlan(planOf(pending), 'text');
    const lines = text.split('\n');
    const at = lines.indexOf(`  + ${errorFiles[0]}`);
    expect(lines[at + 1]).toBe(`      error adding-required-field (line 12): ${NOT_NULL.message}`);
    expect(lines[at + 2]).toBe(`        fix: ${NOT_NULL.help}`);
    // The second file with the same error names it without repeating the fix.
    const second = lines.indexOf(`  + ${errorFiles[1]}`);
    expect(lines[second + 1]).toMatch(/^ {6}error adding-required-field \(line 12\)/);
    expect(lines[second + 2]).toMatch(/^ {2}\+ /);
    expect(count(text, `warning ${TZ.rule} in 150 files`)).toBe(1);
    expect(count(text, TZ.help)).toBe(1);
    expect(text).toContain(`    ${pending[0].file} (lines 4, 5)`);
    expect(text).toContain('    … and 140 more files (--format json lists every finding)');
    expect(text).toContain('low risk require-concurrent-index-creation in 21 files');
    expect(text).toContain('      low risk: public.t7 is created by');
    // 150 file lines, 15 errors and their one fix, four rules of at most ~14 lines each.
    expect(lines.length).toBeLessThan(150 + 16 + 4 * 25 + 10);
  });

  it('a short plan keeps its table open', () => {
    const md = renderPlan(planOf(history(3)), 'markdown');
    expect(md).toContain('| file | runs | lint |');
    expect(md).not.toContain('pending migrations</summary>');
  });
});
