/** What the plan, apply and verify steps share: the environment, its gates, and a read-only target. */
import type { Environment } from '../engine/config/model.ts';
import { loadEnvironment } from '../engine/config/repository.ts';
import { loadRepositorySettings } from '../engine/config/repository-settings.ts';
import type { GateContext } from '../engine/plan/planner.ts';
import { readUpstream } from '../engine/plan/upstream.ts';
import { clockFrom } from '../engine/promote/clock.ts';

export function loadTarget(root: string, name: string): Environment {
  return loadEnvironment(root, name).environment;
}

export async function gatesFor(root: string, env: Environment, processEnv: NodeJS.ProcessEnv): Promise<GateContext> {
  const upstream = await readUpstream(root, env, processEnv);
  return { now: clockFrom(processEnv), ladder: loadRepositorySettings(root).ladder, ...(upstream ? { upstream } : {}) };
}

/** Reads connect as the read-only role when the environment names one and the run has it. */
export function readOnlyTarget(env: Environment, processEnv: NodeJS.ProcessEnv): Environment {
  const db = env.database;
  if (db.kind === 'url' && db.readonlyUrlEnv && processEnv[db.readonlyUrlEnv]) return { ...env, database: { ...db, urlEnv: db.readonlyUrlEnv } };
  return env;
}
