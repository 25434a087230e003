/**
 * The exit-criteria gate, pure: may a flag leave its position, judged on the measurements of
 * the monitors it must keep healthy there?
 *
 * A measurement is evidence for the instants after it, up to the next measurement and for at
 * most twice the monitor's cadence (`every`; one late or missed run is tolerated, two are a
 * gap). Only measurements taken since the flag entered its position count. An instant is
 * healthy when its evidence says healthy; no evidence (before the first measurement, in a gap)
 * is unknown, and unknown is not healthy. The move is allowed when every instant of the soak
 * window [now - soak, now] is healthy, so any breach, unknown or gap inside it restarts the
 * soak: the window must fit after it. With `during`, only the instants within that long after
 * the move are judged.
 */
import { formatDuration } from '../config/duration.ts';
import { describePosition, soakOf, type LadderConfig, type Position } from './ladder.ts';
import { formatInstant, type GateResult } from './gates.ts';

export type MeasuredVerdict = 'healthy' | 'breach' | 'unknown';

export interface Measurement {
  at: Date;
  verdict: MeasuredVerdict;
  value?: number | null;
  detail: string;
}

export interface CriterionEvidence {
  monitor: string;
  everyMs: number;
  duringMs?: number;
  /** This monitor's measurements (any order; those before `since` are ignored). */
  measurements: readonly Measurement[];
}

export interface ExitGateInput {
  flagKey: string;
  position: Position;
  /** When the flag entered `position` (from the ledger); undefined when unknown. */
  since?: Date;
  ladder: LadderConfig;
  now: Date;
  criteria: readonly CriterionEvidence[];
}

/** How long a measurement stands for its monitor: two cadences. */
export const evidenceSpan = (everyMs: number): number => 2 * everyMs;

export function exitCriteriaGates(input: ExitGateInput): GateResult[] {
  return input.criteria.map((criterion) => judgeCriterion(input, criterion));
}

/** One instant's evidence: the measurements at the latest time at or before it (all must be healthy). */
interface Moment {
  at: number;
  verdict: MeasuredVerdict;
  detail: string;
}

function judgeCriterion(input: ExitGateInput, criterion: CriterionEvidence): GateResult {
  const { now, position, since } = input;
  const name = `'${criterion.monitor}'`;
  const where = describePosition(position);
  const refuse = (reason: string): GateResult => ({ gate: 'exit-criteria', passed: false, reason });
  if (!since) return refuse(`${name} cannot be judged: the ledger has no record of when ${input.flagKey} entered ${where}, so no measurement can be tied to it; the window counts from the next recorded apply.`);
  const soak = soakOf(position, input.ladder);
  const span = evidenceSpan(criterion.everyMs);
  const nowMs = now.getTime();
  const sinceMs = since.getTime();
  const windowStart = nowMs - soak;
  const windowEnd = criterion.duringMs === undefined ? nowMs : Math.min(nowMs, sinceMs + criterion.duringMs);
  if (windowEnd < windowStart) {
    return { gate: 'exit-criteria', passed: true, reason: `${name} is watched for ${formatDuration(criterion.duringMs ?? 0)} after a move only; that ended at ${clock(new Date(windowEnd))}, before this ${formatDuration(soak)} soak window.` };
  }
  const moments = momentsOf(criterion.measurements, sinceMs, windowEnd);
  const began = `since ${where} began (${clock(since)})`;
  if (moments.length === 0) {
    return refuse(`no measurements of ${name} ${began}: unknown is not healthy; rollout health measures it (the health workflow, every ${formatDuration(criterion.everyMs)}).`);
  }
  const last = moments[moments.length - 1];
  if (windowEnd - last.at > span) {
    return refuse(`${name} was last measured at ${clock(new Date(last.at))}, more than ${formatDuration(span)} (twice its cadence) before ${clock(new Date(windowEnd))}: unknown is not healthy.`);
  }
  if (last.verdict !== 'healthy') return refuse(`${describeBad(name, last)}: the soak restarts once it is measured healthy again.`);
  // Walk back over the healthy run that reaches the end of the window.
  let first = moments.length - 1;
  while (first > 0 && moments[first - 1].verdict === 'healthy' && moments[first].at - moments[first - 1].at <= span) first -= 1;
  const healthyFrom = moments[first].at;
  const count = moments.length - first;
  if (healthyFrom <= windowStart) {
    // The measurements inside the window, and the one before it that covers its start.
    let counted = 0;
    for (let i = moments.length - 1; i >= first; i -= 1) {
      counted += 1;
      if (moments[i].at <= windowStart) break;
    }
    const over = soak > 0 ? `over the last ${formatDuration(soak)}` : `at ${clock(new Date(last.at))}`;
    return { gate: 'exit-criteria', passed: true, reason: `${name}: ${counted} of ${counted} measurements healthy ${over}.` };
  }
  const healthyFor = `${formatDuration(windowEnd - healthyFrom)} of ${formatDuration(soak)} healthy so far (${count} measurement${count === 1 ? '' : 's'} since ${clock(new Date(healthyFrom))})`;
  const before = first > 0 ? moments[first - 1] : undefined;
  if (!before) {
    const cause = healthyFrom > sinceMs ? `first measured ${began.replace('since ', 'after ')} at ${clock(new Date(healthyFrom))}` : `measured ${began}`;
    return refuse(`${name} ${cause}: ${healthyFor}; ${formatDuration(healthyFrom - windowStart)} to go.`);
  }
  if (before.verdict !== 'healthy') return refuse(`${describeBad(name, before)}: soak restarts; ${healthyFor}; ${formatDuration(healthyFrom - windowStart)} to go.`);
  return refuse(
    `no measurements of ${name} between ${clock(new Date(before.at))} and ${clock(new Date(healthyFrom))} (more than ${formatDuration(span)}): unknown is not healthy, soak restarts; ${healthyFor}; ${formatDuration(healthyFrom - windowStart)} to go.`,
  );
}

/** Measurements in [since, end], one per instant (a breach or unknown at the same instant wins), in time order. */
function momentsOf(measurements: readonly Measurement[], since: number, end: number): Moment[] {
  const byTime = new Map<number, Moment>();
  for (const m of measurements) {
    const at = m.at.getTime();
    if (at < since || at > end) continue;
    const held = byTime.get(at);
    if (!held || (held.verdict === 'healthy' && m.verdict !== 'healthy') || (held.verdict === 'unknown' && m.verdict === 'breach')) byTime.set(at, { at, verdict: m.verdict, detail: m.detail });
  }
  return [...byTime.values()].sort((a, b) => a.at - b.at);
}

const describeBad = (name: string, m: Moment): string =>
  m.verdict === 'breach' ? `${name} breached at ${clock(new Date(m.at))} (${m.detail})` : `${name} was unknown at ${clock(new Date(m.at))} (${m.detail}; unknown is not healthy)`;

const clock = (at: Date): string => formatInstant(at);
