/**
 * The stage gates, as one pure function: may this flag move from here to there now?
 *
 * Rules, in the words of issue 5:
 * - a forward move goes one rung at a time (off → dark → shadow → canary steps → full);
 * - each position soaks for its minimum time, measured from the ledger, before the next;
 * - a downstream environment is never ahead of its upstream, and the upstream must have
 *   held the target position for its soak with passing checks;
 * - a flag is never ahead of a flag it depends on, and that flag must be on;
 * - the flag's exit criteria (monitors) were measured healthy over the whole soak window (exit-gate.ts);
 * - a rollback (any distance back) and a kill-switch flip are always allowed.
 * Every verdict says why, with its numbers.
 */
import { formatDuration } from '../config/duration.ts';
import {
  DEFAULT_LADDER,
  comparePositions,
  describeLadder,
  describePosition,
  nextRung,
  rungIndex,
  soakOf,
  type LadderConfig,
  type Position,
} from './ladder.ts';
import { exitCriteriaGates, type CriterionEvidence } from './exit-gate.ts';

export interface UpstreamState {
  /** The upstream environment's name, e.g. "staging". */
  environment: string;
  /** Where this flag is in the upstream environment. */
  position: Position;
  /** When the upstream entered that position (from its ledger), if known. */
  enteredAt?: Date;
  /** Whether the upstream's checks pass. */
  checksPassing: boolean;
}

export interface DependencyState {
  flagKey: string;
  /** Whether the flag this one depends on is on (its value enables it and it is not off). */
  on: boolean;
  /** Where that flag is, when it has a rollout; a boolean flag has none. */
  position?: Position;
  /** depends_on `{ flag, for }`: how long the dependency must have been on, live, before this flag moves forward. */
  soakMs?: number;
  /** Since when the dependency has been on live (the ledger's last move of it out of off); undefined: it is not on live. */
  onSince?: Date;
}

export interface MoveInput {
  flagKey: string;
  /** The environment the move happens in, for messages; default "this environment". */
  environment?: string;
  /** A kill switch may always be flipped. */
  killSwitch?: boolean;
  from: Position;
  to: Position;
  ladder?: LadderConfig;
  /** When the flag entered `from` (from the ledger); undefined when the ledger does not say. */
  enteredAt?: Date;
  now: Date;
  /** The upstream environment's state of this flag, for a downstream environment. */
  upstream?: UpstreamState;
  /** The flags this one depends on. */
  dependencies?: readonly DependencyState[];
  /** The monitors the flag must keep healthy at `from`, with their measurements (exit-gate.ts). */
  exitCriteria?: readonly CriterionEvidence[];
}

export type MoveKind = 'forward' | 'rollback' | 'unchanged' | 'kill-switch';
export type GateName = 'always' | 'step' | 'soak' | 'upstream' | 'checks' | 'dependency' | 'exit-criteria' | 'adopt';

export interface GateResult {
  gate: GateName;
  passed: boolean;
  /** A full sentence with its numbers. */
  reason: string;
}

export interface Verdict {
  allowed: boolean;
  kind: MoveKind;
  /** Every gate's reason, those that refuse first; each a full sentence. */
  reasons: string[];
  gates: GateResult[];
}

/** "2026-11-20T10:00Z": ISO 8601 in UTC, without zero seconds. */
export function formatInstant(at: Date): string {
  return at.toISOString().replace(/:00\.000Z$/, 'Z').replace(/\.000Z$/, 'Z');
}

export function evaluateMove(input: MoveInput): Verdict {
  const ladder = input.ladder ?? DEFAULT_LADDER;
  const { flagKey, from, to } = input;
  const env = input.environment ?? 'this environment';
  const fromText = describePosition(from);
  const toText = describePosition(to);

  if (input.killSwitch) {
    return verdict('kill-switch', [{ gate: 'always', passed: true, reason: `${flagKey} is a kill switch: flipping it is always allowed, whatever any gate says.` }]);
  }
  const direction = comparePositions(to, from);
  if (direction === 0) {
    return verdict('unchanged', [{ gate: 'always', passed: true, reason: `${flagKey} stays at ${fromText} in ${env}.` }]);
  }
  if (direction < 0) {
    return verdict('rollback', [
      { gate: 'always', passed: true, reason: `Moving ${flagKey} back from ${fromText} to ${toText} in ${env} is a rollback: rollbacks are always allowed, whatever any gate says.` },
    ]);
  }

  const gates: GateResult[] = [stepGate(flagKey, from, to, ladder)];
  const ownSoak = soakGate(`${flagKey} has been at ${fromText} in ${env}`, from, input.enteredAt, input.now, ladder);
  if (ownSoak) gates.push(ownSoak);
  if (input.upstream) gates.push(...upstreamGates(flagKey, env, to, input.upstream, input.now, ladder));
  for (const dependency of input.dependencies ?? []) {
    gates.push(dependencyGate(flagKey, to, dependency));
    if (dependency.soakMs !== undefined && dependency.soakMs > 0) gates.push(dependencySoakGate(flagKey, dependency, dependency.soakMs, input.now));
  }
  if (input.exitCriteria?.length) {
    gates.push(...exitCriteriaGates({ flagKey, position: from, ...(input.enteredAt ? { since: input.enteredAt } : {}), ladder, now: input.now, criteria: input.exitCriteria }));
  }
  return verdict('forward', gates);
}

function verdict(kind: MoveKind, gates: GateResult[]): Verdict {
  const refused = gates.filter((g) => !g.passed);
  return {
    allowed: refused.length === 0,
    kind,
    reasons: [...refused, ...gates.filter((g) => g.passed)].map((g) => g.reason),
    gates,
  };
}

function stepGate(flagKey: string, from: Position, to: Position, ladder: LadderConfig): GateResult {
  const fromText = describePosition(from);
  const toText = describePosition(to);
  if (rungIndex(to, ladder) < 0) {
    return { gate: 'step', passed: false, reason: `${toText} is not a rung of this ladder (${describeLadder(ladder)}); move ${flagKey} to one of those.` };
  }
  const next = nextRung(from, ladder);
  if (next && comparePositions(next, to) === 0) {
    return { gate: 'step', passed: true, reason: `${fromText} → ${toText} is one step forward.` };
  }
  return {
    gate: 'step',
    passed: false,
    reason: `${fromText} → ${toText} skips ${skipped(from, to, ladder)}; go one step at a time: the next step for ${flagKey} is ${next ? describePosition(next) : 'none'}.`,
  };
}

function skipped(from: Position, to: Position, ladder: LadderConfig): string {
  const between = [];
  for (let rung = nextRung(from, ladder); rung && comparePositions(rung, to) < 0; rung = nextRung(rung, ladder)) between.push(describePosition(rung));
  return between.length === 1 ? between[0] : `${between.length} steps (${between.join(', ')})`;
}

/** Whether `position`, entered at `enteredAt`, has soaked its minimum by `now`; undefined when it needs no soak. */
export function soakGate(subject: string, position: Position, enteredAt: Date | undefined, now: Date, ladder: LadderConfig, gate: GateName = 'soak'): GateResult | undefined {
  const needed = soakOf(position, ladder);
  if (needed <= 0) return undefined;
  const text = describePosition(position);
  if (!enteredAt) {
    return {
      gate,
      passed: false,
      reason: `${subject} since an unknown time: the ledger has no record of when it entered ${text}, so its ${formatDuration(needed)} soak cannot be confirmed; the soak counts from the next recorded apply.`,
    };
  }
  const soaked = Math.max(0, now.getTime() - enteredAt.getTime());
  const head = `${subject} since ${formatInstant(enteredAt)}: ${formatDuration(soaked)} of ${formatDuration(needed)} soaked`;
  return soaked >= needed
    ? { gate, passed: true, reason: `${head}.` }
    : { gate, passed: false, reason: `${head}; ${formatDuration(needed - soaked)} to go before the next step.` };
}

function upstreamGates(flagKey: string, env: string, to: Position, upstream: UpstreamState, now: Date, ladder: LadderConfig): GateResult[] {
  const up = upstream.environment;
  const toText = describePosition(to);
  const upText = describePosition(upstream.position);
  const gates: GateResult[] = [];
  const ahead = comparePositions(to, upstream.position);
  if (ahead > 0) {
    gates.push({ gate: 'upstream', passed: false, reason: `${env} would be ahead of ${up}: ${flagKey} is at ${upText} in ${up}, and this moves it to ${toText}; move ${up} first.` });
  } else if (ahead < 0) {
    // Only what is known: the upstream may have adopted its position directly (a first apply),
    // so "it soaked there on the way" is a claim the ledger would have to make (issue 13, defect 4).
    gates.push({ gate: 'upstream', passed: true, reason: `${up} is already past ${toText} (at ${upText}).` });
  } else {
    gates.push(
      soakGate(`${flagKey} has been at ${toText} in ${up}`, to, upstream.enteredAt, now, ladder, 'upstream') ?? {
        gate: 'upstream',
        passed: true,
        reason: `${flagKey} is at ${toText} in ${up}, which needs no soak.`,
      },
    );
  }
  gates.push(
    upstream.checksPassing
      ? { gate: 'checks', passed: true, reason: `${up}'s checks pass.` }
      : { gate: 'checks', passed: false, reason: `${up}'s checks are failing; ${env} cannot move ${flagKey} forward until they pass.` },
  );
  return gates;
}

function dependencyGate(flagKey: string, to: Position, dependency: DependencyState): GateResult {
  const dep = dependency.flagKey;
  const on = dependency.on && dependency.position?.stage !== 'off';
  if (!on) {
    return { gate: 'dependency', passed: false, reason: `${flagKey} depends on ${dep}, which is off; turn ${dep} on first.` };
  }
  if (dependency.position && comparePositions(to, dependency.position) > 0) {
    const depText = describePosition(dependency.position);
    return {
      gate: 'dependency',
      passed: false,
      reason: `${flagKey} would be ahead of ${dep}, which it depends on: ${dep} is at ${depText}, and this moves ${flagKey} to ${describePosition(to)}; move ${dep} first.`,
    };
  }
  const where = dependency.position ? ` at ${describePosition(dependency.position)}` : '';
  return { gate: 'dependency', passed: true, reason: `${flagKey} depends on ${dep}, which is on${where}.` };
}

/**
 * depends_on `{ flag, for }` (seed 002: "Day 3: enable consolidated metrics" a day after Stage 1):
 * the dependency must have been on, live, for that long. Counted from the ledger's last move of it
 * out of off, so that it moving further on (Stage 1 → full) does not restart the count, and a
 * dependency turned on in the same change has been on for nothing yet.
 */
function dependencySoakGate(flagKey: string, dependency: DependencyState, needed: number, now: Date): GateResult {
  const dep = dependency.flagKey;
  if (!dependency.onSince) {
    return {
      gate: 'dependency',
      passed: false,
      reason: `${flagKey} waits for ${dep} to have been on for ${formatDuration(needed)}, and ${dep} is not on yet in this environment (it turns on with this change at the earliest); apply ${dep} first, then move ${flagKey} ${formatDuration(needed)} later.`,
    };
  }
  const held = Math.max(0, now.getTime() - dependency.onSince.getTime());
  const head = `${dep} has been on since ${formatInstant(dependency.onSince)}: ${formatDuration(held)} of the ${formatDuration(needed)} ${flagKey} waits for`;
  return held >= needed
    ? { gate: 'dependency', passed: true, reason: `${head}.` }
    : { gate: 'dependency', passed: false, reason: `${head}; ${formatDuration(needed - held)} left before ${flagKey} may move.` };
}
