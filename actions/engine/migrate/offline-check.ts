/**
 * What `validate` can tell about migrations without a database, so that the no-database CI
 * gate catches it: file and folder names, plain files that share a version, directives,
 * syntax (the real Postgres parser, at file:line:column), and, for environments on the
 * embedded database, extensions PGlite cannot provide. Every file is checked, applied or
 * not: an applied file with a syntax error cannot exist, and a new one must not merge.
 */
import type { Environment } from '../config/model.ts';
import type { Repository } from '../config/repository.ts';
import type { Problem } from '../problems.ts';
import { readMigrationFiles } from './files.ts';
import { resolveDuplicates } from './planner.ts';
import { parseDirectives } from './directives.ts';
import { loadParser, parseSql } from './statements.ts';
import { unavailableExtensionProblems, type CreatedExtension } from './extensions.ts';

/** The parser's newest grammar: validate knows no server version (ALTER TYPE … ADD VALUE is judged as on Postgres 12+). */
const ANY_SERVER = Number.MAX_SAFE_INTEGER;

export interface OfflineCheck {
  problems: Problem[];
  /** Migration file texts by path, for code frames under the problems. */
  sources: Map<string, string>;
}

/** The migrations of the selected environments of a loaded repository (all without a selection). */
export function checkRepositoryMigrations(repository: Repository, only: readonly string[]): Promise<OfflineCheck> {
  const selected = only.length > 0 ? only : [...repository.files.keys()];
  const environments = selected.map((name) => repository.files.get(name)?.environment).filter((env): env is Environment => env !== undefined);
  return checkMigrationsOffline(repository.root, environments);
}

export async function checkMigrationsOffline(root: string, environments: readonly Environment[]): Promise<OfflineCheck> {
  const problems: Problem[] = [];
  const sources = new Map<string, string>();
  const byDirectory = new Map<string, Environment[]>();
  for (const env of environments) byDirectory.set(env.migrations.directory, [...(byDirectory.get(env.migrations.directory) ?? []), env]);
  for (const [directory, envs] of byDirectory) {
    const read = await readMigrationFiles(root, directory);
    if (read.files.length === 0) {
      problems.push(...read.problems);
      continue;
    }
    const { problems: duplicates } = resolveDuplicates(read.files, []);
    problems.push(...read.problems, ...duplicates);
    await loadParser();
    const parsed: { path: string; sql: string; extensions: CreatedExtension[] }[] = [];
    for (const file of read.files) {
      sources.set(file.path, file.sql);
      problems.push(...parseDirectives(file.path, file.sql).problems);
      const result = parseSql(file.path, file.sql, ANY_SERVER);
      problems.push(...result.problems);
      if (result.parsed) parsed.push({ path: file.path, sql: file.sql, extensions: result.parsed.extensions });
    }
    // One report per embedded environment that reads this folder: each names its own file to change.
    for (const env of envs) problems.push(...unavailableExtensionProblems(env.database, env.file, parsed));
  }
  return { problems: dedupe(problems), sources };
}

const dedupe = (problems: Problem[]): Problem[] => {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.column}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

