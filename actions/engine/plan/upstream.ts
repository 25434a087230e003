/**
 * The upstream of an environment (the one that promotes to it) as the gates need it:
 * each flag's position and since when, and whether its latest apply held up.
 */
import { loadRepository, type Repository } from '../config/repository.ts';
import type { Environment } from '../config/model.ts';
import { downstreamsOf } from '../config/environment-file.ts';
import { toError } from '../errors.ts';
import { readOnly, withSession } from '../session.ts';
import type pg from 'pg';
import { formatInstant } from '../stages/gates.ts';
import { readLedger } from '../store/ledger.ts';
import { readLiveState, type LiveState } from '../store/live-state.ts';
import type { GateContext } from './planner.ts';

/** What an upstream has applied: read in one place, for the plan's gates and for promotion. */
export interface UpstreamLive {
  environment: string;
  live: LiveState;
  /** False when the upstream's latest apply was reverted by its checks. */
  checksPassing: boolean;
  /** Why checks count as failing, for messages. */
  checksReason?: string;
}

export async function readUpstreamLive(client: pg.ClientBase, upstream: Environment): Promise<UpstreamLive> {
  const live = await readLiveState(client, upstream.flagTable);
  const [latest] = await readLedger(client, { environment: upstream.name, limit: 1 });
  const failing = latest !== undefined && latest.outcome === 'reverted';
  return {
    environment: upstream.name,
    live,
    checksPassing: !failing,
    ...(failing ? { checksReason: `ledger #${latest.id} at ${formatInstant(latest.at)} was reverted by its checks` } : {}),
  };
}

/** The gates' view of an upstream: each flag's position and since when, and whether its checks hold. */
export function upstreamGates(upstream: UpstreamLive): NonNullable<GateContext['upstream']> {
  const positions = new Map([...upstream.live.rollouts].map(([key, r]) => [key, { position: { stage: r.stage, percent: r.percent }, enteredAt: r.stageSince }] as const));
  return { environment: upstream.environment, positions, checksPassing: upstream.checksPassing };
}

/** The environment that promotes to `env`; pass the repository already loaded to avoid reading every file again. */
export function findUpstream(root: string, env: Environment, loaded?: Repository): Environment | undefined {
  const repository = loaded ?? loadRepository(root);
  for (const file of repository.files.values()) {
    if (file.environment && downstreamsOf(file.environment).includes(env.name)) return file.environment;
  }
  return undefined;
}

export async function readUpstream(root: string, env: Environment, processEnv: NodeJS.ProcessEnv, loaded?: Repository): Promise<GateContext['upstream']> {
  const upstream = findUpstream(root, env, loaded);
  if (!upstream) return undefined;
  try {
    if (upstream.fleet) {
      const { readFleetUpstream } = await import('../fleet/upstream.ts');
      return await readFleetUpstream(root, upstream, processEnv);
    }
    return await withSession(upstream, { root, processEnv, lock: false }, async ({ client }) => upstreamGates(await readOnly(client, () => readUpstreamLive(client, upstream))));
  } catch (thrown) {
    return { environment: upstream.name, positions: new Map(), checksPassing: false, unreadable: toError(thrown).message };
  }
}
