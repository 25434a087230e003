/**
 * Which flags a health run moves back, pure: a flag at dark, shadow or canary whose exit
 * criterion (at that stage) breached in this run goes one rung back, or to off, as its
 * exit_criteria's rollback_to says. A monitor with `during` rolls back only within that long
 * after the flag's move. Unknown never moves anything; kill switches are never moved (they have
 * no criteria: break-glass and monitors' on_breach own them).
 */
import { criteriaFor } from '../config/exit-criteria.ts';
import type { Environment } from '../config/model.ts';
import { comparePositions, describePosition, ladderRungs, type LadderConfig, type Position } from '../stages/ladder.ts';

export interface LivePosition {
  position: Position;
  since: Date | null;
}

export interface StageRollback {
  flag: string;
  from: Position;
  to: Position;
  /** The breached criteria that caused it. */
  monitors: string[];
}

export interface RollbackInput {
  env: Environment;
  /** Live positions of the environment's flags (rollout.flag_rollouts). */
  positions: ReadonlyMap<string, LivePosition>;
  /** Monitors that breached in this run. */
  breached: ReadonlySet<string>;
  ladder: LadderConfig;
  now: Date;
}

export function planStageRollbacks(input: RollbackInput): StageRollback[] {
  const rollbacks: StageRollback[] = [];
  for (const [flag, live] of [...input.positions].sort(([a], [b]) => a.localeCompare(b))) {
    const watching = watchedCriteria(input.env, flag, live, input.now);
    const monitors = watching.criteria.filter((c) => input.breached.has(c.monitor)).map((c) => c.monitor);
    if (monitors.length === 0) continue;
    const to = watching.rollbackTo === 'off' ? { stage: 'off' as const } : previousRung(live.position, input.ladder);
    rollbacks.push({ flag, from: live.position, to, monitors });
  }
  return rollbacks;
}

/** The criteria a live flag is watched on now: those of its stage, minus any whose `during` ended. */
export function watchedCriteria(env: Environment, flag: string, live: LivePosition, now: Date): ReturnType<typeof criteriaFor> {
  const resolved = criteriaFor(env, flag, live.position.stage);
  const since = live.since?.getTime();
  const criteria = resolved.criteria.filter((c) => c.duringMs === undefined || since === undefined || now.getTime() - since <= c.duringMs);
  return { ...resolved, criteria };
}

/** Which flags each monitor is an exit criterion of, right now (recorded with its measurements). */
export function flagsServed(env: Environment, positions: ReadonlyMap<string, LivePosition>, now: Date): Map<string, string[]> {
  const served = new Map<string, string[]>();
  for (const [flag, live] of positions) {
    for (const c of watchedCriteria(env, flag, live, now).criteria) served.set(c.monitor, [...(served.get(c.monitor) ?? []), flag].sort());
  }
  return served;
}

/** The highest rung strictly below a position (off below dark). */
export function previousRung(position: Position, ladder: LadderConfig): Position {
  const below = ladderRungs(ladder).filter((r) => comparePositions(r, position) < 0);
  return below[below.length - 1] ?? { stage: 'off' };
}

export const describeRollback = (r: StageRollback): string => `${r.flag}: ${describePosition(r.from)} → ${describePosition(r.to)}`;
