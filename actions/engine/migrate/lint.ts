/**
 * Lint pending migrations with squawk (a maintained Postgres migration linter built on
 * a real parser). A file acknowledges a finding with squawk's own comment:
 *   -- squawk-ignore adding-required-field
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Problem } from '../problems.ts';
import type { PreparedMigration } from './execute.ts';

export interface LintFinding extends Problem {
  rule: string;
  help?: string;
}

/** We always SET both timeouts on migration sessions, so squawk's reminders to do so are noise. */
const EXCLUDED_RULES = ['require-lock-timeout', 'require-statement-timeout'];

/** Rules whose finding means an outage risk (long locks, table rewrites, lost data): shown as errors. */
const DANGEROUS_RULES = new Set([
  'adding-required-field',
  'adding-not-nullable-field',
  'adding-field-with-default',
  'adding-foreign-key-constraint',
  'adding-primary-key-constraint',
  'adding-serial-primary-key-field',
  'ban-drop-column',
  'ban-drop-table',
  'ban-drop-database',
  'ban-drop-not-null',
  'ban-truncate-cascade',
  'changing-column-type',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'renaming-column',
  'renaming-table',
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
]);

interface SquawkFinding {
  file: string;
  line: number;
  column: number;
  level: string;
  message: string;
  help: string | null;
  rule_name: string;
}

export async function lintMigrations(migrations: readonly PreparedMigration[]): Promise<LintFinding[]> {
  const byPath = new Map(migrations.map((m) => [m.file.absolutePath, m.file.path]));
  // Squawk judges robustness differently inside a transaction: lint each group with the right assumption.
  const inTransaction = migrations.filter((m) => m.execution === 'transaction').map((m) => m.file.absolutePath);
  const outside = migrations.filter((m) => m.execution !== 'transaction').map((m) => m.file.absolutePath);
  const binary = squawkBinary();
  if (binary === undefined) {
    // A bundled action runs without node_modules: say lint was skipped rather than fail the plan.
    const first = migrations[0];
    return first
      ? [{ file: first.file.path, line: 1, column: 1, severity: 'warning', rule: 'lint-unavailable', message: 'migration lint skipped: squawk is not installed here (npm install squawk-cli)' }]
      : [];
  }
  const findings = [...(await runSquawk(binary, inTransaction, true)), ...(await runSquawk(binary, outside, false))];
  return findings.map((f) => ({
    file: byPath.get(f.file) ?? f.file,
    line: f.line + 1,
    column: f.column + 1,
    severity: DANGEROUS_RULES.has(f.rule_name) ? 'error' : 'warning',
    message: `${f.message} (${f.rule_name})`,
    rule: f.rule_name,
    ...(f.help ? { help: f.help } : {}),
  }));
}

async function runSquawk(binary: string, paths: string[], assumeInTransaction: boolean): Promise<SquawkFinding[]> {
  if (paths.length === 0) return [];
  const args = ['--reporter', 'json', `--exclude=${EXCLUDED_RULES.join(',')}`, ...(assumeInTransaction ? ['--assume-in-transaction'] : []), ...paths];
  const stdout = await new Promise<string>((resolve, reject) => {
    // Exit code 1 means "found something": the JSON on stdout is still the answer.
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024 }, (error, out, stderr) => {
      if (error && out.trim() === '') reject(new Error(`squawk failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(out);
    });
  });
  return JSON.parse(stdout) as SquawkFinding[];
}

function squawkBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('squawk-cli/package.json')), 'js', 'bin', 'squawk');
  } catch {
    return undefined;
  }
}
