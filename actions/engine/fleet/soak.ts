/**
 * When a wave last changed, for the soak before the next one: the newest apply or revert in
 * its targets' own ledgers. The fleet keeps no state of its own, so any run can tell.
 */
import type { Environment } from '../config/model.ts';
import { readOnly, withSession } from '../session.ts';
import { readLedger } from '../store/ledger.ts';
import type { FleetTarget } from './model.ts';
import { runPool } from './pool.ts';
import { targetEnvironment } from './target-environment.ts';
import type { TargetContext } from './targets.ts';

/** Unreachable targets say nothing; undefined when no target of the wave was ever applied. */
export async function lastChange(env: Environment, ctx: TargetContext, targets: readonly FleetTarget[], concurrency: number): Promise<Date | undefined> {
  const times = await runPool(targets, concurrency, async (target) => {
    const single = targetEnvironment(env, target);
    try {
      return await withSession(single, { root: ctx.root, processEnv: ctx.processEnv, lock: false }, ({ client }) =>
        readOnly(client, async () => (await readLedger(client, { environment: single.name, limit: 10 })).find((e) => e.kind === 'apply' || e.kind === 'revert')?.at),
      );
    } catch {
      return undefined;
    }
  });
  const known = times.filter((t): t is Date => t instanceof Date);
  return known.length ? new Date(Math.max(...known.map((t) => t.getTime()))) : undefined;
}

/** The end of `soakMs` after `since`, if it is still ahead of `now`. */
export function soakEnd(since: Date | undefined, soakMs: number, now: Date): Date | undefined {
  const until = since ? new Date(since.getTime() + soakMs) : undefined;
  return until && until > now ? until : undefined;
}
