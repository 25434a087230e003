/**
 * A fleet as the upstream of another environment: what its downstream's gates read. A flag is
 * only as far along as the least advanced target has it, and since the latest of those targets
 * got there; the fleet's checks pass only when no target's last apply was reverted. A target
 * that cannot be read makes the whole upstream unreadable, which refuses forward moves.
 */
import type { Environment } from '../config/model.ts';
import type { GateContext } from '../plan/planner.ts';
import type { Position } from '../plan/types.ts';
import { readOnly, withSession } from '../session.ts';
import { comparePositions, type Position as LadderPosition } from '../stages/ladder.ts';
import { readLedger } from '../store/ledger.ts';
import { readLiveState } from '../store/live-state.ts';
import { runPool } from './pool.ts';
import { targetEnvironment } from './target-environment.ts';
import { resolveTargets } from './targets.ts';

type Held = { position: Position; enteredAt: Date | null };

export async function readFleetUpstream(root: string, upstream: Environment, processEnv: NodeJS.ProcessEnv): Promise<NonNullable<GateContext['upstream']>> {
  const targets = await resolveTargets(upstream, upstream.fleet!, { root, processEnv });
  const reads = await runPool(targets, 8, (target) => {
    const single = targetEnvironment(upstream, target);
    return withSession(single, { root, processEnv, lock: false }, ({ client }) =>
      readOnly(client, async () => ({ live: await readLiveState(client, upstream.flagTable), latest: (await readLedger(client, { environment: upstream.name, limit: 1 }))[0] })),
    );
  });
  const all = reads.filter((r) => r !== undefined);
  const positions = new Map<string, Held>();
  const keys = new Set(all.flatMap((r) => [...r.live.rollouts.keys()]));
  for (const key of keys) {
    const held = all.map((r) => r.live.rollouts.get(key));
    // A target that does not have the flag yet holds it at off: the fleet has not got there.
    if (held.some((h) => h === undefined)) continue;
    let least: Held | undefined;
    for (const h of held) {
      const here: Held = { position: { stage: h!.stage, percent: h!.percent }, enteredAt: h!.stageSince };
      const order = least ? comparePositions(ladderOf(here.position), ladderOf(least.position)) : -1;
      if (!least || order < 0) least = here;
      else if (order === 0 && here.enteredAt && (!least.enteredAt || here.enteredAt > least.enteredAt)) least = here;
    }
    positions.set(key, least!);
  }
  return { environment: upstream.name, positions, checksPassing: all.every((r) => r.latest === undefined || r.latest.outcome !== 'reverted') };
}

const ladderOf = (p: Position): LadderPosition =>
  p.stage === null ? { stage: 'off' } : p.stage === 'canary' ? { stage: 'canary', percent: p.percent ?? 0 } : { stage: p.stage };
