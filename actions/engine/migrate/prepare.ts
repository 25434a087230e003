/** Decide how each file runs, before anything runs: a syntax error in file 7 stops the run before file 1. */
import type { Problem } from '../problems.ts';
import type { MigrationFile } from './files.ts';
import { parseDirectives } from './directives.ts';
import { loadParser, parseSql } from './statements.ts';
import type { PreparedMigration } from './execute.ts';

export async function prepareMigrations(files: readonly MigrationFile[], serverVersion: number): Promise<{ prepared: PreparedMigration[]; problems: Problem[] }> {
  await loadParser();
  const prepared: PreparedMigration[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    const { directives, problems: directiveProblems } = parseDirectives(file.path, file.sql);
    const { parsed, problems: parseProblems } = parseSql(file.path, file.sql, serverVersion);
    problems.push(...directiveProblems, ...parseProblems);
    if (!parsed) continue;
    let execution: PreparedMigration['execution'];
    let reasons: string[];
    if (directives.transaction === true) {
      [execution, reasons] = ['transaction', []];
    } else if (directives.transaction === false) {
      [execution, reasons] = ['statements', ['-- rollout:transaction=off']];
    } else if (parsed.nonTransactional.length > 0) {
      [execution, reasons] = ['statements', parsed.nonTransactional];
    } else if (parsed.managesTransactions) {
      [execution, reasons] = ['script', ['the file has its own BEGIN/COMMIT']];
    } else {
      [execution, reasons] = ['transaction', []];
    }
    if (directives.transaction === true && parsed.managesTransactions) {
      problems.push({ file: file.path, line: 1, column: 1, severity: 'error', message: `${file.path} says -- rollout:transaction=on but has its own BEGIN/COMMIT. Remove one of them.` });
    }
    prepared.push({ file, execution, reasons, statements: parsed.statements, directives });
  }
  return { prepared, problems };
}
