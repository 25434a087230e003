/**
 * A guide's example after its first apply, held open for a test file: its checks and
 * monitors run through the engine (the same code `rollout verify` and `rollout health` run)
 * on one open database — opening the embedded one costs seconds — and one at a time, so that
 * a test can break the data a check guards and see that check, by name, fail.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { tripKillSwitch } from '../../actions/engine/breakglass/index.ts';
import { checkAccess, liveFlagView, resolveChecks, runChecks, type CheckReport, type CheckResult } from '../../actions/engine/checks/index.ts';
import type { Environment, JsonValue } from '../../actions/engine/config/model.ts';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import { runMonitors, type HealthReport, type MonitorResult } from '../../actions/engine/monitors/index.ts';
import type { ExampleRepo } from './support.ts';

export interface OpenGuide {
  env: Environment;
  db: Database;
  /** Run SQL as the application would (several statements allowed when there are no params). */
  sql<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Run a migration file of the example again, as written. */
  rerunMigration(file: string): Promise<void>;
  /** Every check, as `rollout verify` runs them. */
  verify(): Promise<CheckReport>;
  /** One check, by the name verify reports (e.g. "smoke test / interests seeded"). */
  check(name: string): Promise<CheckResult>;
  /** Every monitor, as `rollout health --no-act` measures them. */
  health(): Promise<HealthReport>;
  /** One monitor by name; act: carry out its breach action (trip the kill switch) as `rollout health` does. */
  monitor(name: string, options?: { act?: boolean }): Promise<MonitorResult>;
  /** Set a kill switch by break-glass, as `rollout kill` does. */
  kill(flag: string, value: JsonValue, reason: string): Promise<void>;
  close(): Promise<void>;
}

export async function openGuide(repo: ExampleRepo, environment: string): Promise<OpenGuide> {
  const { environment: env } = loadEnvironment(repo.root, environment);
  const db = await openDatabase(env, { root: repo.root, processEnv: repo.env });
  const client = await db.connect();
  const checks = resolveChecks(repo.root, env);
  const runWith = async (selected: typeof checks): Promise<CheckReport> =>
    runChecks(env.name, selected, { root: repo.root, processEnv: repo.env, access: checkAccess(env, db), ...(await liveFlagView(client, env)) });
  const monitorsOf = (names?: string[]): Environment => ({ ...env, monitors: names ? env.monitors.filter((m) => names.includes(m.name)) : env.monitors });
  const measure = (target: Environment, act: boolean): Promise<HealthReport> =>
    runMonitors(target, { root: repo.root, access: checkAccess(target, db), writer: client, actor: 'guide test', act, processEnv: repo.env });
  return {
    env,
    db,
    async sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]> {
      const result = await client.query<T>(text, params);
      // A multi-statement text answers with one result per statement: the last one's rows.
      const last = Array.isArray(result) ? (result as { rows: T[] }[]).at(-1) : result;
      return last?.rows ?? [];
    },
    async rerunMigration(file) {
      await client.query(await readFile(join(repo.root, env.migrations.directory, file), 'utf8'));
    },
    verify: () => runWith(checks),
    async check(name) {
      const found = checks.filter((c) => c.name === name);
      if (found.length !== 1) throw new Error(`no check named "${name}" in ${env.file}; checks: ${checks.map((c) => c.name).join(' | ')}`);
      return (await runWith(found)).results[0];
    },
    health: () => measure(env, false),
    async monitor(name, options = {}) {
      if (!env.monitors.some((m) => m.name === name)) throw new Error(`no monitor named "${name}" in ${env.file}; monitors: ${env.monitors.map((m) => m.name).join(' | ')}`);
      return (await measure(monitorsOf([name]), options.act ?? false)).results[0];
    },
    async kill(flag, value, reason) {
      await tripKillSwitch(client, env, { flag, value, reason, actor: 'guide test', trigger: 'cli', root: repo.root });
    },
    async close() {
      await client.end().catch(() => undefined);
      await db.close();
    },
  };
}

/** Expect a check to end with this status; the message shows its detail when it does not. */
export function expectStatus(result: Pick<CheckResult, 'name' | 'status' | 'detail'>, status: CheckResult['status']): void {
  expect({ name: result.name, status: result.status, detail: result.detail }).toEqual({ name: result.name, status, detail: expect.any(String) as string });
}

/** Break something for the length of `body`, and put it back whatever happens. */
export async function whileBroken(guide: OpenGuide, breakSql: string, restoreSql: string, body: () => Promise<void>): Promise<void> {
  await guide.sql(breakSql);
  try {
    await body();
  } finally {
    await guide.sql(restoreSql);
  }
}

/** A stand-in route answering `status` for the length of `body`. */
export async function whileFaulty(repo: ExampleRepo, path: string, status: number, body: () => Promise<void>): Promise<void> {
  if (!repo.standIn) throw new Error('this example has no stand-in service');
  repo.standIn.faults.set(path, status);
  try {
    await body();
  } finally {
    repo.standIn.faults.delete(path);
  }
}

/** The names of the checks with this status in a report. */
export const namesWith = (report: CheckReport, status: CheckResult['status']): string[] => report.results.filter((r) => r.status === status).map((r) => r.name);
