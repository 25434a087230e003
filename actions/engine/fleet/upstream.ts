/**
 * A fleet as the upstream of another environment: what its downstream's gates read, and what
 * promotion may carry from it. A flag is only as far along as the least advanced target has it,
 * and since the latest of those targets got there; a value counts as applied only when every
 * target holds the same one. The fleet's checks pass only when no target's last apply was
 * reverted. A target that cannot be read makes the whole upstream unreadable, which refuses
 * forward moves (and promotion).
 */
import equal from 'fast-deep-equal';
import type { Environment } from '../config/model.ts';
import type { GateContext } from '../plan/planner.ts';
import type { UpstreamLive } from '../promote/decide.ts';
import { readOnly, withSession } from '../session.ts';
import { comparePositions, ladderPositionOrOff } from '../stages/ladder.ts';
import { readLedger, type LedgerEntry } from '../store/ledger.ts';
import { readLiveState, type LiveRollout, type LiveState } from '../store/live-state.ts';
import { runPool } from './pool.ts';
import { targetEnvironment } from './target-environment.ts';
import { resolveTargets } from './targets.ts';

interface TargetRead {
  target: string;
  live: LiveState;
  latest: LedgerEntry | undefined;
}

/** Every target's live state and last ledger entry; any target that cannot be read throws. */
async function readTargets(root: string, upstream: Environment, processEnv: NodeJS.ProcessEnv): Promise<TargetRead[]> {
  const targets = await resolveTargets(upstream, upstream.fleet!, { root, processEnv });
  const reads = await runPool(targets, 8, (target): Promise<TargetRead> => {
    const single = targetEnvironment(upstream, target);
    return withSession(single, { root, processEnv, lock: false }, ({ client }) =>
      readOnly(client, async () => ({ target: target.name, live: await readLiveState(client, upstream.flagTable), latest: (await readLedger(client, { environment: upstream.name, limit: 1 })).at(0) })),
    );
  });
  return reads.filter((r): r is TargetRead => r !== undefined);
}

/** The least advanced of the targets' rollouts of one flag; among equals, the one that got there last. */
function leastAdvanced(rollouts: readonly LiveRollout[]): LiveRollout {
  let least = rollouts[0];
  for (const r of rollouts.slice(1)) {
    const order = comparePositions(ladderPositionOrOff(r), ladderPositionOrOff(least));
    if (order < 0 || (order === 0 && r.stageSince && (!least.stageSince || r.stageSince > least.stageSince))) least = r;
  }
  return least;
}

export async function readFleetUpstream(root: string, upstream: Environment, processEnv: NodeJS.ProcessEnv): Promise<NonNullable<GateContext['upstream']>> {
  const all = await readTargets(root, upstream, processEnv);
  const positions = new Map<string, { position: { stage: LiveRollout['stage']; percent: number | null }; enteredAt: Date | null }>();
  const keys = new Set(all.flatMap((r) => [...r.live.rollouts.keys()]));
  for (const key of keys) {
    const held = all.map((r) => r.live.rollouts.get(key));
    // A target that does not have the flag yet holds it at off: the fleet has not got there.
    if (held.some((h) => h === undefined)) continue;
    const least = leastAdvanced(held as LiveRollout[]);
    positions.set(key, { position: { stage: least.stage, percent: least.percent }, enteredAt: least.stageSince });
  }
  return { environment: upstream.name, positions, checksPassing: failingTargets(all).length === 0 };
}

/**
 * What promotion reads of a fleet: a flag is applied when every target has it with the same
 * value (a wave still under way is not yet the fleet's state), at its least advanced position.
 */
export async function readFleetUpstreamLive(root: string, upstream: Environment, processEnv: NodeJS.ProcessEnv): Promise<UpstreamLive> {
  const all = await readTargets(root, upstream, processEnv);
  const [first] = all;
  const live: LiveState = { flagTable: first?.live.flagTable ?? upstream.flagTable ?? 'rollout.flags', flagTableExists: all.length > 0 && all.every((r) => r.live.flagTableExists), flags: new Map(), rollouts: new Map() };
  for (const [key, flag] of first?.live.flags ?? []) {
    const held = all.map((r) => ({ flag: r.live.flags.get(key), rollout: r.live.rollouts.get(key) }));
    if (held.some((h) => !h.flag || !h.rollout || !equal(h.flag.value, flag.value))) continue;
    live.flags.set(key, flag);
    live.rollouts.set(key, leastAdvanced(held.map((h) => h.rollout!)));
  }
  const failing = failingTargets(all);
  return {
    environment: upstream.name,
    live,
    checksPassing: failing.length === 0,
    ...(failing.length > 0 ? { checksReason: `the latest apply of ${failing.length} of its ${all.length} targets was reverted by its checks (${failing.slice(0, 5).join(', ')}${failing.length > 5 ? ' …' : ''})` } : {}),
  };
}

const failingTargets = (all: readonly TargetRead[]): string[] => all.filter((r) => r.latest !== undefined && r.latest.outcome === 'reverted').map((r) => r.target);

