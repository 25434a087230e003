/**
 * Decide how each file runs, before anything runs.
 *
 * `parse: 'all'` runs every file through the real Postgres parser.
 * `parse: 'needed'` (apply, plan) runs the parser only on files that need it to be classified or
 * split: the lexical pre-scan (prescan.ts) found a keyword that may make a statement
 * non-transactional or control transactions, a directive asks for statement-by-statement
 * execution, or the server is older than Postgres 12 — and of those, not the files the lexer
 * can classify with certainty (lexical-classify.ts: CREATE/DROP INDEX CONCURRENTLY files and
 * plain BEGIN … COMMIT files, the common ones). Every other file is an ordinary
 * transactional file; the server checks the syntax of those without running them
 * (syntax-check.ts), and reports the errors with their position.
 */
import type { Problem } from '../problems.ts';
import type { MigrationFile } from './files.ts';
import { parseDirectives, type Directives } from './directives.ts';
import { loadParser, parseSql, type ParsedSql } from './statements.ts';
import { prescanSql } from './prescan.ts';
import { classifyLexically } from './lexical-classify.ts';
import type { PreparedMigration } from './execute.ts';

export interface PrepareOptions {
  parse: 'all' | 'needed';
}

/** A file whose directives are read and whose need for the parser is decided (synchronous, cheap). */
export interface Classified {
  file: MigrationFile;
  directives: Directives;
  needsParser: boolean;
  /** How the lexer classified a file the pre-scan flagged, when it could be sure (lexical-classify.ts): no parser needed. */
  lexical?: ParsedSql;
}

/** Read directives and pre-scan: which files need the parser. */
export function classifyMigrations(files: readonly MigrationFile[], serverVersion: number, options: PrepareOptions): { classified: Classified[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const classified = files.map((file) => {
    const { directives, problems: directiveProblems } = parseDirectives(file.path, file.sql);
    problems.push(...directiveProblems);
    if (options.parse === 'all' || serverVersion < 120_000) return { file, directives, needsParser: true };
    if (directives.transaction !== false && prescanSql(file.sql).parserNeeded.length === 0) return { file, directives, needsParser: false };
    // Flagged (or to be split): the lexer may be sure enough, and spare loading the parser.
    const lexical = classifyLexically(file.sql);
    return lexical ? { file, directives, needsParser: false, lexical } : { file, directives, needsParser: true };
  });
  return { classified, problems };
}

export async function prepareMigrations(
  files: readonly MigrationFile[],
  serverVersion: number,
  options: PrepareOptions = { parse: 'all' },
): Promise<{ prepared: PreparedMigration[]; problems: Problem[] }> {
  const { classified, problems } = classifyMigrations(files, serverVersion, options);
  const parsed = await parseClassified(classified, serverVersion);
  return { prepared: parsed.prepared, problems: [...problems, ...parsed.problems] };
}

/** Parse the files that need it (loading the parser only then) and decide how each file runs. */
export async function parseClassified(classified: readonly Classified[], serverVersion: number): Promise<{ prepared: PreparedMigration[]; problems: Problem[] }> {
  const prepared: PreparedMigration[] = [];
  const problems: Problem[] = [];
  if (classified.some((c) => c.needsParser)) await loadParser();
  for (const { file, directives, needsParser, lexical } of classified) {
    let parsed: ParsedSql | undefined;
    if (lexical) {
      parsed = lexical;
    } else if (needsParser) {
      const result = parseSql(file.path, file.sql, serverVersion);
      problems.push(...result.problems);
      if (!result.parsed) continue;
      parsed = result.parsed;
    } else {
      // The pre-scan found no keyword that could make this file anything but one ordinary transaction.
      parsed = { statements: [], nonTransactional: [], managesTransactions: false, extensions: [] };
    }
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
    prepared.push({
      file,
      execution,
      reasons,
      // Not parsed: split lazily, only if a failure needs the failing statement located.
      statements: needsParser || lexical ? parsed.statements : undefined,
      directives,
      extensions: parsed.extensions,
      ...(parsed.finalCommitAt !== undefined ? { finalCommitAt: parsed.finalCommitAt } : {}),
    });
  }
  return { prepared, problems };
}
