/**
 * status of a fleet: per wave and per target, how many flags are where Git says, the position
 * of each staged flag on the ladder, the last ledger entry, and whether the target's last apply
 * failed its checks (kind revert).
 */
import { formatDuration } from '../config/duration.ts';
import { describePosition } from '../render/plan.ts';
import { toError } from '../errors.ts';
import { readOnly, withSession } from '../session.ts';
import { readStatus } from '../status/status.ts';
import type { LedgerEntry } from '../store/ledger.ts';
import { runPool } from './pool.ts';
import { defaultConcurrency, selectFleet, type SelectOptions } from './selection.ts';
import { targetEnvironment } from './target-environment.ts';
import type { Environment } from '../config/model.ts';
import { fleetTitle } from './plan.ts';

export interface TargetStatus {
  target: string;
  wave: string;
  labels: Record<string, string>;
  flags?: { inSync: number; total: number };
  /** Where each staged flag (one with a rollout in Git) is on this target, and where Git wants it. */
  positions?: Array<{ key: string; live: string; desired: string }>;
  last?: Pick<LedgerEntry, 'id' | 'at' | 'kind' | 'outcome' | 'commit'>;
  /** The last entry put an apply's flags back: the target failed its checks. */
  failing: boolean;
  error?: string;
}

export interface FleetStatus {
  environment: string;
  wave?: string;
  waves: Array<{ name: string; targets: TargetStatus[] }>;
}

export async function readFleetStatus(env: Environment, ctx: { root: string; processEnv: NodeJS.ProcessEnv; concurrency?: number }, options: SelectOptions = {}): Promise<FleetStatus> {
  const selection = await selectFleet(env, ctx, options);
  const items = selection.selected.flatMap((wave) => wave.targets.map((target) => ({ wave: wave.name, target })));
  const read = await runPool(items, ctx.concurrency ?? defaultConcurrency(selection, ctx.processEnv), async ({ wave, target }): Promise<TargetStatus> => {
    const base = { target: target.name, wave, labels: target.labels };
    const single = targetEnvironment(env, target);
    try {
      const status = await withSession(single, { root: ctx.root, processEnv: ctx.processEnv, lock: false }, ({ client }) =>
        readOnly(client, () => readStatus(client, single, { ledgerLimit: 1 })),
      );
      const [last] = status.ledger;
      return {
        ...base,
        flags: { inSync: status.flags.filter((f) => f.inSync).length, total: status.flags.length },
        positions: status.flags.filter((f) => f.desiredPosition?.stage).map((f) => ({ key: f.key, live: describePosition(f.livePosition), desired: describePosition(f.desiredPosition) })),
        ...(last ? { last: { id: last.id, at: last.at, kind: last.kind, outcome: last.outcome, commit: last.commit } } : {}),
        failing: last?.kind === 'revert',
      };
    } catch (thrown) {
      return { ...base, failing: false, error: toError(thrown).message };
    }
  });
  const statuses = read.filter((s): s is TargetStatus => s !== undefined);
  return {
    environment: env.name,
    ...(options.wave !== undefined ? { wave: options.wave } : {}),
    waves: selection.selected.map((w) => ({ name: w.name, targets: statuses.filter((s) => s.wave === w.name) })),
  };
}

export function renderFleetStatusText(status: FleetStatus, now: Date): string {
  const all = status.waves.flatMap((w) => w.targets);
  const synced = all.filter((t) => t.flags && t.flags.inSync === t.flags.total).length;
  const out = [`Status of fleet ${fleetTitle(status)}: ${synced} of ${all.length} target(s) in sync, ${all.filter((t) => t.failing).length} failing, ${all.filter((t) => t.error).length} unreachable`];
  for (const wave of status.waves) {
    out.push('', `Wave ${wave.name} (${wave.targets.length}):`);
    for (const t of wave.targets) {
      if (t.error) {
        out.push(`  ✗ ${t.target}: ${t.error}`);
        continue;
      }
      const inSync = t.flags && t.flags.inSync === t.flags.total;
      const last = t.last ? `last #${t.last.id} ${t.last.kind} ${t.last.outcome} ${formatDuration(now.getTime() - t.last.at.getTime())} ago${t.last.commit ? ` (commit ${t.last.commit.slice(0, 12)})` : ''}` : 'nothing applied yet';
      // Only the staged flags have a position; "→" names where Git wants one that is elsewhere.
      const positions = (t.positions ?? []).map((p) => `${p.key} ${p.live}${p.live === p.desired ? '' : ` → ${p.desired}`}`);
      out.push(
        `  ${t.failing ? '↩' : inSync ? '✓' : '≠'} ${t.target}: ${t.flags?.inSync ?? 0}/${t.flags?.total ?? 0} flags in sync; ${positions.length ? `${positions.join(', ')}; ` : ''}${last}${t.failing ? '; FAILING: its last apply failed its checks and was reverted' : ''}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
