/** What a check run produces: one result per check, and a report over all of them. */
import type { CheckSpec, JsonValue } from '../config/model.ts';
import type { FlagCondition } from './flag-condition.ts';

export type CheckStatus = 'pass' | 'fail' | 'error' | 'skipped';
export type CheckKind = 'sql' | 'schema' | 'explain' | 'http' | 'rows_satisfy' | 'invalid';

export interface CheckResult {
  name: string;
  kind: CheckKind;
  status: CheckStatus;
  durationMs: number;
  /** One line a person reads first: why it failed, or what passed. */
  detail: string;
  expected?: string;
  actual?: string;
  /** The query that ran (SQL, schema, explain and rows_satisfy checks). */
  query?: string;
  /** METHOD and URL (HTTP checks), with secret variables left as ${NAME}. */
  url?: string;
  /** File that declared the check (the environment file, or checks/<name>.yaml). */
  source: string;
  /** rows_satisfy: the first rows that broke the contract, by key. */
  violations?: { key: JsonValue; errors: string[] }[];
}

export interface CheckReport {
  environment: string;
  results: CheckResult[];
  summary: Record<CheckStatus, number>;
  /** True when no check failed or errored (skipped checks do not count). */
  ok: boolean;
  durationMs: number;
  /** What the run noticed about its database that is not any check's result (e.g. the checks role may call dblink). */
  warnings?: string[];
}

/** A check ready to run: shared files expanded, with where it came from. */
export interface ResolvedCheck {
  name: string;
  spec: CheckSpec;
  source: string;
  /** All the when_flag conditions on the way to this check (its own and its `use` entry's). */
  conditions: FlagCondition[];
  /** Set when the check cannot run at all (e.g. a missing shared file). */
  problem?: string;
}

export function summarize(environment: string, results: CheckResult[], durationMs: number, warnings: string[] = []): CheckReport {
  const summary: Record<CheckStatus, number> = { pass: 0, fail: 0, error: 0, skipped: 0 };
  for (const result of results) summary[result.status] += 1;
  return { environment, results, summary, ok: summary.fail === 0 && summary.error === 0, durationMs, ...(warnings.length ? { warnings } : {}) };
}
