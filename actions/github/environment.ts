/** What the plan, apply and verify steps share: the environment, its gates, and a read-only target. */
import type { Environment } from '../engine/config/model.ts';
import { loadEnvironment, type Repository } from '../engine/config/repository.ts';
import { findUpstream } from '../engine/plan/upstream.ts';
import { UsageError } from '../engine/errors.ts';

export function loadTarget(root: string, name: string): Environment {
  return loadEnvironment(root, name).environment;
}

/**
 * Refuse a fleet in an action that acts on one database (apply, verify, health), before it
 * connects anywhere or records a deployment: a fleet is rolled out wave by wave by the fleet action.
 */
export function refuseFleet(env: Environment, action: string): void {
  if (!env.fleet) return;
  throw new UsageError(
    `${env.name} is a fleet (${env.file} lists targets, not one database), and the ${action} action acts on one database. Roll a fleet out with the fleet action (actions/fleet, as the reusable rollout-fleet.yml calls it), wave by wave; from the CLI, rollout ${action} --env ${env.name}/<target> acts on one target.`,
  );
}

export { gatesFor, readOnlyTarget } from '../engine/operations.ts';

/**
 * The step's variables with the URLs it was given as inputs put under the names the files
 * give (database.url_env), so that a workflow that looks secrets up by those names passes
 * them in `with:` instead of a hand-written env: line per environment. An input wins over a
 * variable of the same name; an environment on the embedded database takes none.
 */
export function withDatabaseUrls(processEnv: NodeJS.ProcessEnv, urls: ReadonlyArray<readonly [Environment | undefined, string | null]>): NodeJS.ProcessEnv {
  const overlay: NodeJS.ProcessEnv = {};
  for (const [env, url] of urls) {
    if (!env || url === null || env.database.kind !== 'url') continue;
    overlay[env.database.urlEnv] = url;
    // The URL given is the one to use: a read-only variable of the same run must not replace it.
    if (env.database.readonlyUrlEnv) overlay[env.database.readonlyUrlEnv] = undefined;
  }
  return Object.keys(overlay).length === 0 ? processEnv : { ...processEnv, ...overlay };
}

/** The environment and the one that promotes to it, with the URLs the step was given. */
export function databaseEnvFor(processEnv: NodeJS.ProcessEnv, root: string, env: Environment, urls: { databaseUrl: string | null; upstreamDatabaseUrl: string | null }, repository?: Repository): NodeJS.ProcessEnv {
  const upstream = urls.upstreamDatabaseUrl === null ? undefined : findUpstream(root, env, repository);
  return withDatabaseUrls(processEnv, [
    [env, urls.databaseUrl],
    [upstream, urls.upstreamDatabaseUrl],
  ]);
}
