/**
 * What a fleet command acts on: the fleet's targets (read from wherever the file says),
 * their waves, and the part chosen by --wave and --shard. Every fleet operation starts here.
 */
import type { Environment } from '../config/model.ts';
import { suggestion } from '../config/suggest.ts';
import { UsageError, UserError } from '../errors.ts';
import type { FleetSpec } from './model.ts';
import { targetEnvironment } from './target-environment.ts';
import { resolveTargets, type TargetContext } from './targets.ts';
import { assignWaves, shardOf, type Shard, type Wave } from './waves.ts';

export interface FleetSelection {
  environment: Environment;
  fleet: FleetSpec;
  /** Every wave of the fleet, with all its targets. */
  waves: Wave[];
  /** The waves and targets the command acts on (all, one wave, or a shard of it). */
  selected: Wave[];
  wave?: string;
  shard?: Shard;
}

export interface SelectOptions {
  wave?: string;
  shard?: Shard;
}

export function fleetOf(env: Environment): FleetSpec {
  if (!env.fleet) throw new UserError(`${env.name} is one database, not a fleet: --wave, --shard and --concurrency apply to environments with targets: (docs/fleets.md).`);
  return env.fleet;
}

export async function selectFleet(env: Environment, ctx: TargetContext, options: SelectOptions = {}): Promise<FleetSelection> {
  const fleet = fleetOf(env);
  const waves = assignWaves(env.name, await resolveTargets(env, fleet, ctx), fleet.waves);
  let selected = waves;
  if (options.wave !== undefined) {
    const names = waves.map((w) => w.name);
    selected = waves.filter((w) => w.name === options.wave);
    if (selected.length === 0) throw new UsageError(`${env.name} has no wave '${options.wave}'${suggestion(options.wave, names)} Waves: ${names.join(', ')}.`);
  }
  const shard = options.shard;
  if (shard) selected = selected.map((w) => ({ ...w, targets: shardOf(w.targets, shard) }));
  return { environment: env, fleet, waves, selected, ...(options.wave !== undefined ? { wave: options.wave } : {}), ...(shard ? { shard } : {}) };
}

/** One target of a fleet as a single-database environment, for the commands that act on one database. */
export async function fleetTarget(env: Environment, name: string, ctx: TargetContext): Promise<Environment> {
  const targets = await resolveTargets(env, fleetOf(env), ctx);
  const target = targets.find((t) => t.name === name);
  if (!target) throw new UsageError(`fleet ${env.name} has no target '${name}'${suggestion(name, targets.map((t) => t.name))} Run rollout status --env ${env.name} to list them.`);
  return targetEnvironment(env, target);
}

/** The pool's size unless --concurrency says: a few sessions per database server, never one per CPU. */
export function defaultConcurrency(selection: FleetSelection, processEnv: NodeJS.ProcessEnv): number {
  const targets = selection.selected.flatMap((w) => w.targets);
  // Each embedded target is a whole Postgres in this process: a few at a time.
  if (targets.some((t) => t.database.kind === 'embedded')) return 2;
  const hosts = new Set(
    targets.map((t) => {
      const url = t.database.kind === 'url' ? processEnv[t.database.urlEnv] : undefined;
      try {
        return url ? new URL(url).host : '?';
      } catch {
        return '?';
      }
    }),
  );
  return Math.min(16, 8 * hosts.size);
}

export const describeSelection = (s: { wave?: string; shard?: Shard }): string =>
  [s.wave !== undefined ? `wave ${s.wave}` : '', s.shard ? `shard ${s.shard.index}/${s.shard.count}` : ''].filter(Boolean).join(', ');
