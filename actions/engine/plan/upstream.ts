/**
 * The upstream of an environment (the one that promotes to it) as the gates need it:
 * each flag's position and since when, and whether its latest apply held up.
 */
import { loadRepository, type Repository } from '../config/repository.ts';
import type { Environment } from '../config/model.ts';
import { downstreamsOf } from '../config/environment-file.ts';
import { toError } from '../errors.ts';
import { readOnly, withSession } from '../session.ts';
import { readLedger } from '../store/ledger.ts';
import { readLiveState } from '../store/live-state.ts';
import type { GateContext } from './planner.ts';

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
    return await withSession(upstream, { root, processEnv, lock: false }, ({ client }) =>
      readOnly(client, async () => {
        const live = await readLiveState(client, upstream.flagTable);
        const [latest] = await readLedger(client, { environment: upstream.name, limit: 1 });
        const positions = new Map(
          [...live.rollouts].map(([key, r]) => [key, { position: { stage: r.stage, percent: r.percent }, enteredAt: r.stageSince }] as const),
        );
        return { environment: upstream.name, positions, checksPassing: latest === undefined || latest.outcome !== 'reverted' };
      }),
    );
  } catch (thrown) {
    return { environment: upstream.name, positions: new Map(), checksPassing: false, unreadable: toError(thrown).message };
  }
}
