/**
 * The first apply to an environment (no ledger yet) has no history to gate on, so it adopts
 * the positions its file gives. For an environment with an upstream (production) a forward
 * position — canary or full — that the upstream has not reached, or has reached but not yet
 * held for that position's soak, is not adopted silently: units would get a rollout no
 * environment soaked (issue 18; seed 002's production comes after "1-2 days" of staging). It
 * takes an acknowledgement, `--adopt`, which says the live system already serves it so (or the
 * team accepts that).
 */
import { comparePositions, describePosition, type LadderConfig, type Position } from './ladder.ts';
import { soakGate, type Verdict } from './gates.ts';

export interface FirstApplyInput {
  flagKey: string;
  environment: string;
  to: Position;
  /** The environment that promotes to this one, when there is one: where it holds the flag, or why it could not be read. */
  upstream?: { environment: string; position: Position; enteredAt?: Date; unreadable?: string };
  /** The operator acknowledged adopting forward positions (`rollout apply --adopt`). */
  adopt: boolean;
  /** The clock and ladder the upstream's soak at exactly this position is judged on. */
  now: Date;
  ladder: LadderConfig;
}

const FORWARD_STAGES: ReadonlySet<Position['stage']> = new Set(['canary', 'full']);

export function firstApplyVerdict(input: FirstApplyInput): Verdict {
  const { flagKey, environment, to, upstream } = input;
  const at = describePosition(to);
  const adopted = (reason: string): Verdict => ({ allowed: true, kind: 'unchanged', reasons: [reason], gates: [] });
  const plain = `First apply to ${environment}: ${flagKey} is adopted at the position the file gives.`;
  if (!FORWARD_STAGES.has(to.stage) || !upstream) return adopted(plain);
  const reached = upstream.unreadable === undefined ? comparePositions(upstream.position, to) : -1;
  // Exactly there: the same soak a promotion waits for (gates.ts upstream gate); past it: passed.
  const soak = reached === 0 ? soakGate(`${flagKey} has been at ${at} in ${upstream.environment}`, to, upstream.enteredAt, input.now, input.ladder, 'upstream') : undefined;
  if (reached > 0 || (reached === 0 && (soak === undefined || soak.passed))) return adopted(plain);
  const where =
    upstream.unreadable !== undefined
      ? `${upstream.environment} (its upstream) could not be read (${upstream.unreadable})`
      : soak
        ? `${upstream.environment} (its upstream) has not held it there for its soak (${soak.reason.replace(/ before the next step\.$/, '').replace(/\.$/, '')})`
        : `${upstream.environment} (its upstream) is at ${describePosition(upstream.position)}`;
  if (input.adopt) {
    return adopted(`First apply to ${environment}: ${flagKey} is adopted at ${at} as --adopt acknowledged, although ${where}.`);
  }
  const reason =
    `First apply to ${environment} (no ledger yet): ${flagKey} would start at ${at}, but ${where}, so no environment soaked it there; ` +
    `rollout does not adopt a forward position silently. If ${environment} already serves ${flagKey} at ${at}, run apply again with --adopt (the apply action's adopt: true) to record it as it is; ` +
    `otherwise set its rollout to a position ${upstream.environment} has reached (or off) and promote from there.`;
  return { allowed: false, kind: 'forward', reasons: [reason], gates: [{ gate: 'adopt', passed: false, reason }] };
}
