/** The pure first-apply rule (issue 18): what a first apply adopts by itself, and what needs --adopt. */
import { describe, expect, it } from 'vitest';
import { firstApplyVerdict, type FirstApplyInput } from '../../actions/engine/stages/first-apply.ts';
import { DEFAULT_LADDER, type Position } from '../../actions/engine/stages/ladder.ts';

const HOUR = 3_600_000;
const NOW = new Date('2026-11-22T09:00:00Z');
const hoursAgo = (hours: number): Date => new Date(NOW.getTime() - hours * HOUR);
const canary = (percent: number): Position => ({ stage: 'canary', percent });
const base = (to: Position, upstream?: FirstApplyInput['upstream'], adopt = false): FirstApplyInput => ({
  flagKey: 'checkout.v2',
  environment: 'production',
  to,
  adopt,
  now: NOW,
  ladder: DEFAULT_LADDER,
  ...(upstream ? { upstream } : {}),
});

describe('firstApplyVerdict', () => {
  it('adopts every position when there is no upstream, and positions short of canary whatever the upstream', () => {
    for (const to of [{ stage: 'full' } as Position, canary(50), { stage: 'dark' } as Position]) expect(firstApplyVerdict(base(to)).allowed).toBe(true);
    expect(firstApplyVerdict(base({ stage: 'shadow' }, { environment: 'staging', position: { stage: 'off' } })).allowed).toBe(true);
    expect(firstApplyVerdict(base({ stage: 'dark' }, { environment: 'staging', position: { stage: 'off' }, unreadable: 'connection refused' })).allowed).toBe(true);
  });

  it('adopts a forward position the upstream has passed, or reached and held for its soak', () => {
    expect(firstApplyVerdict(base(canary(25), { environment: 'staging', position: canary(25), enteredAt: hoursAgo(24) })).allowed).toBe(true);
    expect(firstApplyVerdict(base(canary(25), { environment: 'staging', position: { stage: 'full' } })).allowed).toBe(true);
    // Full needs no soak: reached is enough.
    expect(firstApplyVerdict(base({ stage: 'full' }, { environment: 'staging', position: { stage: 'full' }, enteredAt: hoursAgo(0) })).allowed).toBe(true);
  });

  it('refuses a forward position the upstream reached but has not held for its soak, or since an unknown time, unless --adopt', () => {
    const early = firstApplyVerdict(base(canary(25), { environment: 'staging', position: canary(25), enteredAt: hoursAgo(23) }));
    expect(early.allowed).toBe(false);
    expect(early.gates).toEqual([{ gate: 'adopt', passed: false, reason: early.reasons[0] }]);
    expect(early.reasons[0]).toContain(
      'checkout.v2 would start at canary 25%, but staging (its upstream) has not held it there for its soak (checkout.v2 has been at canary 25% in staging since 2026-11-21T10:00Z: 23 h of 24 h soaked; 1 h to go), so no environment soaked it there',
    );
    const unknown = firstApplyVerdict(base(canary(25), { environment: 'staging', position: canary(25) }));
    expect(unknown.allowed).toBe(false);
    expect(unknown.reasons[0]).toContain('since an unknown time');
    expect(firstApplyVerdict(base(canary(25), { environment: 'staging', position: canary(25), enteredAt: hoursAgo(23) }, true)).allowed).toBe(true);
  });

  it('refuses a forward position ahead of the upstream or with the upstream unreadable, naming the way out', () => {
    const ahead = firstApplyVerdict(base(canary(25), { environment: 'staging', position: canary(5) }));
    expect(ahead.allowed).toBe(false);
    expect(ahead.gates).toEqual([{ gate: 'adopt', passed: false, reason: ahead.reasons[0] }]);
    expect(ahead.reasons[0]).toContain('checkout.v2 would start at canary 25%, but staging (its upstream) is at canary 5%');
    expect(ahead.reasons[0]).toContain('--adopt');
    const unknown = firstApplyVerdict(base({ stage: 'full' }, { environment: 'staging', position: { stage: 'off' }, unreadable: 'connection refused' }));
    expect(unknown.allowed).toBe(false);
    expect(unknown.reasons[0]).toContain('staging (its upstream) could not be read (connection refused)');
  });

  it('says what it adopted, in one sentence', () => {
    expect(firstApplyVerdict(base(canary(25), { environment: 'staging', position: { stage: 'full' } }))).toEqual({
      allowed: true,
      kind: 'unchanged',
      reasons: ['First apply to production: checkout.v2 is adopted at the position the file gives.'],
      gates: [],
    });
  });

  it('an unreadable upstream is no evidence, whatever position it last reported', () => {
    const verdict = firstApplyVerdict(base(canary(25), { environment: 'staging', position: { stage: 'full' }, unreadable: 'connection refused' }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons).toEqual([
      'First apply to production (no ledger yet): checkout.v2 would start at canary 25%, but staging (its upstream) could not be read (connection refused), so no environment soaked it there; ' +
        "rollout does not adopt a forward position silently. If production already serves checkout.v2 at canary 25%, run apply again with --adopt (the apply action's adopt: true) to record it as it is; " +
        'otherwise set its rollout to a position staging has reached (or off) and promote from there.',
    ]);
  });

  it('adopts it with --adopt, and says it was acknowledged', () => {
    const adopted = firstApplyVerdict(base({ stage: 'full' }, { environment: 'staging', position: { stage: 'dark' } }, true));
    expect(adopted.allowed).toBe(true);
    expect(adopted.reasons[0]).toBe('First apply to production: checkout.v2 is adopted at full as --adopt acknowledged, although staging (its upstream) is at dark.');
  });
});
