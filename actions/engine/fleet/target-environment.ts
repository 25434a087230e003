/**
 * One target of a fleet as the single-database operations see it: the fleet's environment
 * with the target's database. The name stays the environment's: each target's ledger,
 * history and lock are in its own database, under the environment they belong to.
 */
import type { Environment } from '../config/model.ts';
import type { FleetTarget } from './model.ts';

export function targetEnvironment(env: Environment, target: FleetTarget): Environment {
  const { fleet: _fleet, ...rest } = env;
  return { ...rest, database: target.database };
}
