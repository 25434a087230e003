/**
 * What `validate` can tell about check and monitor SQL without a database (issue 13, defect 5):
 * every query goes through the same first layer of the read-only guard that refuses it when it
 * runs (the real Postgres parser: one read-only statement, no writes, no denied function). A
 * DELETE in a check used to pass validate and then fail every verify after apply.
 */
import type { Repository } from '../config/repository.ts';
import { locate, type PathToken, type YamlSource } from '../config/yaml-source.ts';
import { loadParser } from '../migrate/statements.ts';
import type { Problem } from '../problems.ts';
import { RefusedQueryError, assertReadOnlyStatement } from './statement-guard.ts';

/** Where a check or monitor may hold SQL, below checks[i] / monitors[i]. */
const SQL_PATHS: Record<'checks' | 'monitors', PathToken[][]> = {
  checks: [['sql'], ['explain', 'sql'], ['rows_satisfy', 'sql']],
  monitors: [['sql'], ['burn_rate', 'sql']],
};

export async function checkRepositoryQueries(repository: Repository, only: readonly string[]): Promise<Problem[]> {
  const selected = only.length > 0 ? only : [...repository.files.keys()];
  const sources = selected.map((name) => repository.files.get(name)?.source).filter((s): s is YamlSource => s !== undefined);
  const queries = sources.flatMap((source) => queriesOf(source).map((q) => ({ ...q, source })));
  if (queries.length === 0) return [];
  await loadParser();
  const problems: Problem[] = [];
  for (const { source, path, sql, owner } of queries) {
    try {
      assertReadOnlyStatement(sql);
    } catch (error) {
      if (!(error instanceof RefusedQueryError)) throw error;
      problems.push({ file: source.file, ...locate(source, path), severity: 'error', message: `the SQL of ${owner} would be refused when it runs: ${error.message}` });
    }
  }
  return problems;
}

function queriesOf(source: YamlSource): { path: PathToken[]; sql: string; owner: string }[] {
  const data = source.data;
  if (!isRecord(data)) return [];
  const found: { path: PathToken[]; sql: string; owner: string }[] = [];
  for (const section of ['checks', 'monitors'] as const) {
    const items = data[section];
    if (!Array.isArray(items)) continue;
    items.forEach((item, index) => {
      if (!isRecord(item)) return;
      const owner = `${section === 'checks' ? 'check' : 'monitor'} '${typeof item.name === 'string' ? item.name : index}'`;
      for (const tail of SQL_PATHS[section]) {
        const sql = tail.reduce<unknown>((node, key) => (isRecord(node) ? node[key as string] : undefined), item);
        if (typeof sql === 'string') found.push({ path: [section, index, ...tail], sql, owner });
      }
    });
  }
  return found;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
