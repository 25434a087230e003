/**
 * The targets of a fleet at run time: the file's list, or one read from a JSON file in the
 * repository or from a control database. A list read at run time is checked like the file's
 * (positions in the JSON file; the row for a control database), and nothing runs when any
 * item is wrong.
 */
import type { Environment } from '../config/model.ts';
import { openServer } from '../db/server.ts';
import { DatabaseError, UserError } from '../errors.ts';
import { readOnly } from '../session.ts';
import { readTargetList } from './config.ts';
import type { FleetSpec, FleetTarget } from './model.ts';
import { targetsFromFile } from './target-file.ts';

export interface TargetContext {
  root: string;
  processEnv: NodeJS.ProcessEnv;
}

export async function resolveTargets(env: Environment, fleet: FleetSpec, ctx: TargetContext): Promise<FleetTarget[]> {
  const source = fleet.source;
  if (source.kind === 'list') return source.targets;
  if (source.kind === 'file') return targetsFromFile(ctx.root, source.file, fleet.urlEnvTemplate, env.file);
  return targetsFromQuery(env, source.sql, source.controlUrlEnv, fleet.urlEnvTemplate, ctx.processEnv);
}

async function targetsFromQuery(env: Environment, sql: string, controlUrlEnv: string, template: string | undefined, processEnv: NodeJS.ProcessEnv): Promise<FleetTarget[]> {
  const url = processEnv[controlUrlEnv];
  if (!url) {
    throw new UserError(`Environment variable ${controlUrlEnv} is not set. ${env.file} lists its targets with a query on the control database whose URL is in ${controlUrlEnv} (targets_from.control_url_env); set it.`);
  }
  const db = openServer(url, `${env.name} (control)`, `rollout ${env.name} targets`);
  try {
    const client = await db.connect();
    const { rows } = await readOnly(client, () => client.query<Record<string, unknown>>(sql)).catch((error: unknown) => {
      throw new DatabaseError(`the targets query of ${env.file} (targets_from.query) failed on the control database: ${(error as Error).message}. It must return name, url_env and optionally labels (jsonb).`, { cause: error });
    });
    const problems: string[] = [];
    // Columns the query did not return are absent, not null: a row is checked as the file's items are.
    const items = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null)));
    const targets = readTargetList(items, template, (at, message) => problems.push(`  row ${Number(at[0]) + 1}: ${message}`));
    if (problems.length > 0) throw new UserError(`the targets query of ${env.file} returned rows that are not targets; nothing was done:\n${problems.join('\n')}`);
    if (targets.length === 0) throw new UserError(`the targets query of ${env.file} returned no targets; a fleet needs at least one.`);
    return targets;
  } finally {
    await db.close();
  }
}
