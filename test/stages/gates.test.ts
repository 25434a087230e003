import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER, evaluateMove, formatInstant, type MoveInput, type Position } from '../../actions/engine/stages/index.ts';

const HOUR = 3_600_000;
const entered = new Date('2026-11-20T10:00:00Z');
const after = (hours: number): Date => new Date(entered.getTime() + hours * HOUR);
const canary = (percent: number): Position => ({ stage: 'canary', percent });

const move = (over: Partial<MoveInput>): MoveInput => ({
  flagKey: 'checkout.v2',
  environment: 'staging',
  from: { stage: 'shadow' },
  to: canary(5),
  enteredAt: entered,
  now: after(2),
  ...over,
});

describe('formatInstant', () => {
  it('writes UTC without zero seconds', () => {
    expect(formatInstant(entered)).toBe('2026-11-20T10:00Z');
    expect(formatInstant(new Date('2026-11-20T10:00:30Z'))).toBe('2026-11-20T10:00:30Z');
    expect(formatInstant(new Date('2026-11-20T10:00:30.250Z'))).toBe('2026-11-20T10:00:30.250Z');
  });
});

describe('forward moves go one step at a time', () => {
  it('accepts each next rung of the default ladder once soaked', () => {
    const rungs: Position[] = [{ stage: 'off' }, { stage: 'dark' }, { stage: 'shadow' }, canary(5), canary(25), canary(50), canary(100), { stage: 'full' }];
    for (let i = 0; i + 1 < rungs.length; i++) {
      const verdict = evaluateMove(move({ from: rungs[i], to: rungs[i + 1], now: after(24) }));
      expect(verdict, JSON.stringify(rungs[i])).toMatchObject({ allowed: true, kind: 'forward' });
    }
  });

  it('says a next step is one step forward', () => {
    expect(evaluateMove(move({})).reasons).toContain('shadow → canary 5% is one step forward.');
  });

  it('refuses a skip and names what it skips and the next step', () => {
    const verdict = evaluateMove(move({ from: { stage: 'dark' }, to: canary(25) }));
    expect(verdict).toMatchObject({ allowed: false, kind: 'forward' });
    expect(verdict.reasons[0]).toBe('dark → canary 25% skips 2 steps (shadow, canary 5%); go one step at a time: the next step for checkout.v2 is shadow.');
    expect(evaluateMove(move({ from: canary(5), to: canary(50), now: after(48) })).reasons[0]).toBe(
      'canary 5% → canary 50% skips canary 25%; go one step at a time: the next step for checkout.v2 is canary 25%.',
    );
  });

  it('refuses a move to a position that is not a rung, naming the ladder', () => {
    const verdict = evaluateMove(move({ from: canary(5), to: canary(30), now: after(48) }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe('canary 30% is not a rung of this ladder (off → dark → shadow → canary 5% → canary 25% → canary 50% → canary 100% → full); move checkout.v2 to one of those.');
  });

  it('goes from an off-ladder position to the first rung above it', () => {
    expect(evaluateMove(move({ from: canary(30), to: canary(50), now: after(48) })).allowed).toBe(true);
    expect(evaluateMove(move({ from: canary(30), to: canary(100), now: after(48) })).allowed).toBe(false);
  });

  it('follows a repository ladder that leaves out shadow and has its own steps', () => {
    const ladder = { ...DEFAULT_LADDER, canarySteps: [10, 100], skip: ['shadow' as const] };
    expect(evaluateMove(move({ ladder, from: { stage: 'dark' }, to: canary(10) })).allowed).toBe(true);
    const verdict = evaluateMove(move({ ladder, from: { stage: 'dark' }, to: { stage: 'shadow' } }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toMatch(/^shadow is not a rung of this ladder \(off → dark → canary 10% → canary 100% → full\)/);
  });
});

describe('soak', () => {
  it('refuses before the soak, with the numbers and the time to go', () => {
    const verdict = evaluateMove(move({ from: canary(25), to: canary(50), now: after(31), ladder: { ...DEFAULT_LADDER, canarySoakMs: { 25: 48 * HOUR } } }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe('checkout.v2 has been at canary 25% in staging since 2026-11-20T10:00Z: 31 h of 2 d soaked; 17 h to go before the next step.');
  });

  it('accepts once the soak is done and says so', () => {
    const verdict = evaluateMove(move({ from: canary(25), to: canary(50), now: after(24) }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.reasons).toContain('checkout.v2 has been at canary 25% in staging since 2026-11-20T10:00Z: 24 h of 24 h soaked.');
  });

  it('refuses when the ledger does not say when the position was entered', () => {
    const verdict = evaluateMove(move({ from: { stage: 'dark' }, to: { stage: 'shadow' }, enteredAt: undefined }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe(
      'checkout.v2 has been at dark in staging since an unknown time: the ledger has no record of when it entered dark, so its 1 h soak cannot be confirmed; the soak counts from the next recorded apply.',
    );
  });

  it('needs no soak to leave off', () => {
    const verdict = evaluateMove(move({ from: { stage: 'off' }, to: { stage: 'dark' }, enteredAt: undefined }));
    expect(verdict).toMatchObject({ allowed: true, reasons: ['off → dark is one step forward.'] });
  });

  it('counts a clock behind the ledger as no soak at all', () => {
    const verdict = evaluateMove(move({ from: { stage: 'dark' }, to: { stage: 'shadow' }, now: after(-1) }));
    expect(verdict.reasons[0]).toContain(': 0 ms of 1 h soaked; 1 h to go');
  });
});

describe('upstream', () => {
  const upstream = { environment: 'staging', position: canary(25), enteredAt: entered, checksPassing: true };
  const production = (over: Partial<MoveInput>): MoveInput => move({ environment: 'production', from: canary(5), to: canary(25), now: after(30), upstream, ...over });

  it('accepts when the upstream has held the target for its soak with passing checks', () => {
    const verdict = evaluateMove(production({}));
    expect(verdict.allowed).toBe(true);
    expect(verdict.reasons).toContain('checkout.v2 has been at canary 25% in staging since 2026-11-20T10:00Z: 30 h of 24 h soaked.');
    expect(verdict.reasons).toContain("staging's checks pass.");
  });

  it('refuses to put a downstream environment ahead of its upstream', () => {
    const verdict = evaluateMove(production({ from: canary(25), to: canary(50), upstream: { ...upstream, position: canary(25) } }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe('production would be ahead of staging: checkout.v2 is at canary 25% in staging, and this moves it to canary 50%; move staging first.');
  });

  it('refuses while the upstream has not held the target for its soak', () => {
    const verdict = evaluateMove(production({ now: after(31), upstream: { ...upstream, enteredAt: after(21) } }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons).toEqual([
      'checkout.v2 has been at canary 25% in staging since 2026-11-21T07:00Z: 10 h of 24 h soaked; 14 h to go before the next step.',
      'canary 5% → canary 25% is one step forward.',
      'checkout.v2 has been at canary 5% in production since 2026-11-20T10:00Z: 31 h of 24 h soaked.',
      "staging's checks pass.",
    ]);
  });

  it('accepts when the upstream is already past the target', () => {
    const verdict = evaluateMove(production({ upstream: { ...upstream, position: { stage: 'full' }, enteredAt: after(29) } }));
    expect(verdict.allowed).toBe(true);
    // No soak claim the ledger did not make (issue 13, defect 4).
    expect(verdict.reasons).toContain('staging is already past canary 25% (at full).');
    expect(verdict.reasons.join(' ')).not.toContain('on the way');
  });

  it('refuses while the upstream checks fail', () => {
    const verdict = evaluateMove(production({ upstream: { ...upstream, checksPassing: false } }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe("staging's checks are failing; production cannot move checkout.v2 forward until they pass.");
  });
});

describe('dependencies', () => {
  it('refuses while a dependency is off', () => {
    const verdict = evaluateMove(move({ flagKey: 'metrics.consolidated', dependencies: [{ flagKey: 'metrics.phase6', on: false }] }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe('metrics.consolidated depends on metrics.phase6, which is off; turn metrics.phase6 on first.');
  });

  it('treats a dependency at stage off as off', () => {
    expect(evaluateMove(move({ dependencies: [{ flagKey: 'payments.v2', on: true, position: { stage: 'off' } }] })).allowed).toBe(false);
  });

  it('refuses to move a flag ahead of a flag it depends on', () => {
    const verdict = evaluateMove(move({ from: canary(5), to: canary(25), now: after(24), dependencies: [{ flagKey: 'payments.v2', on: true, position: canary(5) }] }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toBe('checkout.v2 would be ahead of payments.v2, which it depends on: payments.v2 is at canary 5%, and this moves checkout.v2 to canary 25%; move payments.v2 first.');
  });

  it('accepts when every dependency is on and not behind', () => {
    const verdict = evaluateMove(move({ dependencies: [{ flagKey: 'metrics.phase6', on: true }, { flagKey: 'payments.v2', on: true, position: { stage: 'full' } }] }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.reasons).toContain('checkout.v2 depends on metrics.phase6, which is on.');
    expect(verdict.reasons).toContain('checkout.v2 depends on payments.v2, which is on at full.');
  });

  describe('a dependency soak (depends_on { flag, for }): on, live, for that long first', () => {
    const DAY = 24 * HOUR;
    const phase6 = { flagKey: 'metrics.phase6', on: true, position: canary(100), soakMs: DAY };
    const consolidated = (dependency: Parameters<typeof move>[0]['dependencies'], now: Date) =>
      evaluateMove(move({ flagKey: 'metrics.consolidated', from: { stage: 'off' }, to: canary(100), ladder: { ...DEFAULT_LADDER, canarySteps: [100], skip: ['dark', 'shadow'] }, now, dependencies: dependency }));

    it('refuses before the soak, saying how long is left', () => {
      const verdict = consolidated([{ ...phase6, onSince: entered }], after(20));
      expect(verdict.allowed).toBe(false);
      expect(verdict.reasons[0]).toBe('metrics.phase6 has been on since 2026-11-20T10:00Z: 20 h of the 24 h metrics.consolidated waits for; 4 h left before metrics.consolidated may move.');
    });

    it('allows once the dependency has been on for the soak', () => {
      const verdict = consolidated([{ ...phase6, onSince: entered }], after(24));
      expect(verdict.allowed).toBe(true);
      expect(verdict.reasons).toContain('metrics.phase6 has been on since 2026-11-20T10:00Z: 24 h of the 24 h metrics.consolidated waits for.');
    });

    it('refuses while the dependency is not on live (turned on by the same change), whatever the desired file says', () => {
      const verdict = consolidated([phase6], after(48));
      expect(verdict.allowed).toBe(false);
      expect(verdict.reasons[0]).toMatch(/^metrics\.consolidated waits for metrics\.phase6 to have been on for 24 h, and metrics\.phase6 is not on yet/);
    });

    it('never holds back a rollback', () => {
      const verdict = evaluateMove(move({ from: canary(100), to: { stage: 'off' }, dependencies: [phase6] }));
      expect(verdict).toMatchObject({ allowed: true, kind: 'rollback' });
    });
  });
});

describe('always allowed', () => {
  const everyGateFails: Partial<MoveInput> = {
    enteredAt: undefined,
    upstream: { environment: 'staging', position: { stage: 'off' }, checksPassing: false },
    dependencies: [{ flagKey: 'payments.v2', on: false }],
  };

  it('allows a rollback of any distance whatever the gates say', () => {
    const verdict = evaluateMove(move({ ...everyGateFails, environment: 'production', from: { stage: 'full' }, to: { stage: 'dark' } }));
    expect(verdict).toEqual({
      allowed: true,
      kind: 'rollback',
      reasons: ['Moving checkout.v2 back from full to dark in production is a rollback: rollbacks are always allowed, whatever any gate says.'],
      gates: [expect.objectContaining({ gate: 'always', passed: true })],
    });
  });

  it('allows flipping a kill switch whatever the gates say', () => {
    const verdict = evaluateMove(move({ ...everyGateFails, flagKey: 'global.safe_mode', killSwitch: true, from: { stage: 'off' }, to: { stage: 'full' } }));
    expect(verdict).toMatchObject({ allowed: true, kind: 'kill-switch', reasons: ['global.safe_mode is a kill switch: flipping it is always allowed, whatever any gate says.'] });
  });

  it('calls a move to the same position unchanged', () => {
    expect(evaluateMove(move({ ...everyGateFails, from: canary(25), to: canary(25) }))).toMatchObject({
      allowed: true,
      kind: 'unchanged',
      reasons: ['checkout.v2 stays at canary 25% in staging.'],
    });
  });

  it('lists every refusal at once, refusals first', () => {
    const verdict = evaluateMove(move({ ...everyGateFails, from: { stage: 'dark' }, to: canary(5), now: after(2) }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.gates.filter((g) => !g.passed).map((g) => g.gate)).toEqual(['step', 'soak', 'upstream', 'checks', 'dependency']);
    expect(verdict.reasons).toHaveLength(5);
  });
});

describe('gates at their edges', () => {
  it('speaks of "this environment" when the move names none', () => {
    const { environment: _, ...unnamed } = move({ from: canary(5), to: canary(5) });
    expect(evaluateMove(unnamed).reasons).toEqual(['checkout.v2 stays at canary 5% in this environment.']);
  });

  it('an upstream at the same position with no soak to wait for passes, saying so', () => {
    const ladder = { ...DEFAULT_LADDER, soakMs: { ...DEFAULT_LADDER.soakMs, dark: 0 } };
    const verdict = evaluateMove(move({ from: { stage: 'off' }, to: { stage: 'dark' }, ladder, upstream: { environment: 'dev', position: { stage: 'dark' }, checksPassing: true } }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.gates).toContainEqual({ gate: 'upstream', passed: true, reason: 'checkout.v2 is at dark in dev, which needs no soak.' });
  });

  it('a dependency that is on but whose rollout is off counts as off', () => {
    const verdict = evaluateMove(move({ dependencies: [{ flagKey: 'payments.v2', on: true, position: { stage: 'off' } }] }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.gates).toContainEqual({ gate: 'dependency', passed: false, reason: 'checkout.v2 depends on payments.v2, which is off; turn payments.v2 on first.' });
  });

  it('depends_on with a wait of 0 waits for nothing, even for a dependency not yet on live', () => {
    const verdict = evaluateMove(move({ dependencies: [{ flagKey: 'payments.v2', on: true, soakMs: 0 }] }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.gates.filter((g) => g.gate === 'dependency')).toEqual([{ gate: 'dependency', passed: true, reason: 'checkout.v2 depends on payments.v2, which is on.' }]);
  });

  it('a dependency at the very position the flag moves to is not behind it', () => {
    const verdict = evaluateMove(move({ dependencies: [{ flagKey: 'payments.v2', on: true, position: canary(5) }] }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.gates).toContainEqual({ gate: 'dependency', passed: true, reason: 'checkout.v2 depends on payments.v2, which is on at canary 5%.' });
  });
});
