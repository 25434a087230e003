/**
 * The exit-criteria gate and the stage rollbacks of health, over random ladders and random
 * measurement series. The oracle is the definition, checked instant by instant: a measurement
 * is evidence for at most two cadences until the next one; the move is allowed iff every instant
 * of the soak window [now - soak, now] has healthy evidence taken since the flag arrived.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Environment, FlagSpec, MonitorSpec } from '../../actions/engine/config/model.ts';
import { DEFAULT_MIGRATION_SETTINGS } from '../../actions/engine/config/model.ts';
import { planStageRollbacks, previousRung } from '../../actions/engine/monitors/stage-rollback.ts';
import { evidenceSpan, exitCriteriaGates, type Measurement, type MeasuredVerdict } from '../../actions/engine/stages/exit-gate.ts';
import { comparePositions, evaluateMove, ladderRungs, soakOf, type LadderConfig, type Position, type SkippableStage } from '../../actions/engine/stages/index.ts';

const MINUTE = 60_000;
const SINCE = Date.UTC(2026, 10, 20, 10);
const at = (minutes: number): Date => new Date(SINCE + minutes * MINUTE);

const ladderArb: fc.Arbitrary<LadderConfig> = fc
  .record({
    steps: fc.subarray([1, 5, 25, 50, 100], { minLength: 1 }),
    skip: fc.subarray<SkippableStage>(['dark', 'shadow']),
    // Soaks in minutes, short enough to check every instant of the window.
    soak: fc.record({ dark: fc.nat(600), shadow: fc.nat(600), canary: fc.nat(1440), full: fc.constant(0) }),
  })
  .map(({ steps, skip, soak }) => ({
    canarySteps: steps,
    skip,
    soakMs: { dark: soak.dark * MINUTE, shadow: soak.shadow * MINUTE, canary: soak.canary * MINUTE, full: 0 },
    canarySoakMs: {},
  }));

/** Positions below full and above off: where criteria apply. */
const watchedPositions = (ladder: LadderConfig): Position[] => ladderRungs(ladder).filter((r) => r.stage !== 'off' && r.stage !== 'full');

interface Series {
  everyMinutes: number;
  measurements: Array<{ minute: number; verdict: MeasuredVerdict }>;
}

/** Mostly healthy series at roughly the cadence, with jitter, gaps, breaches and unknowns; some start before the move. */
const seriesArb: fc.Arbitrary<Series> = fc
  .record({
    everyMinutes: fc.constantFrom(5, 15, 30, 60),
    points: fc.array(fc.record({ gap: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 200 }) }), verdict: fc.oneof({ weight: 12, arbitrary: fc.constant<MeasuredVerdict>('healthy') }, { weight: 1, arbitrary: fc.constantFrom<MeasuredVerdict>('breach', 'unknown') }) }), { maxLength: 160 }),
    start: fc.integer({ min: -120, max: 60 }),
  })
  .map(({ everyMinutes, points, start }) => {
    let minute = start;
    const measurements = points.map((p) => {
      minute += Math.max(1, Math.round((p.gap * everyMinutes) / 10));
      return { minute, verdict: p.verdict };
    });
    return { everyMinutes, measurements };
  });

const toMeasurements = (series: Series): Measurement[] => series.measurements.map((m) => ({ at: at(m.minute), verdict: m.verdict, detail: `${m.verdict} at ${m.minute}` }));

/** The definition, at one instant (minutes since the move). */
function healthyAt(series: Series, tau: number): boolean {
  const before = series.measurements.filter((m) => m.minute >= 0 && m.minute <= tau);
  if (before.length === 0) return false;
  const latest = Math.max(...before.map((m) => m.minute));
  if ((tau - latest) * MINUTE > evidenceSpan(series.everyMinutes * MINUTE)) return false;
  return before.filter((m) => m.minute === latest).every((m) => m.verdict === 'healthy');
}

/** Allowed iff every instant (integers and the halves between them: where the evidence changes) of the window is healthy. */
function oracle(series: Series, soakMinutes: number, nowMinute: number, duringMinutes?: number): boolean {
  const start = nowMinute - soakMinutes;
  const end = duringMinutes === undefined ? nowMinute : Math.min(nowMinute, duringMinutes);
  if (end < start) return true;
  for (let tau = start; tau <= end; tau += 0.5) if (!healthyAt(series, tau)) return false;
  return true;
}

const judge = (series: Series, position: Position, ladder: LadderConfig, nowMinute: number, duringMinutes?: number) =>
  exitCriteriaGates({
    flagKey: 'checkout.v2',
    position,
    since: at(0),
    ladder,
    now: at(nowMinute),
    criteria: [{ monitor: 'p95 latency', everyMs: series.everyMinutes * MINUTE, ...(duringMinutes !== undefined ? { duringMs: duringMinutes * MINUTE } : {}), measurements: toMeasurements(series) }],
  })[0];

const caseArb = ladderArb.chain((ladder) =>
  fc.record({
    ladder: fc.constant(ladder),
    position: fc.constantFrom(...watchedPositions(ladder)),
    series: seriesArb,
    now: fc.integer({ min: 0, max: 3000 }),
    during: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
  }),
);

describe('the exit-criteria gate, property', () => {
  it('allows a move iff every criterion has healthy measurements covering its soak window', () => {
    const outcomes = [0, 0];
    fc.assert(
      fc.property(caseArb, ({ ladder, position, series, now, during }) => {
        const soakMinutes = soakOf(position, ladder) / MINUTE;
        const gate = judge(series, position, ladder, now, during);
        const expected = oracle(series, soakMinutes, now, during);
        expect(gate.passed, gate.reason).toBe(expected);
        outcomes[expected ? 1 : 0] += 1;
      }),
      { numRuns: 400 },
    );
    // Both answers occur often enough for the property to mean something.
    expect(Math.min(...outcomes)).toBeGreaterThan(40);
  });

  it('any breach or unknown inside the soak window refuses (the soak restarts after it)', () => {
    fc.assert(
      fc.property(caseArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom<MeasuredVerdict>('breach', 'unknown'), ({ ladder, position, series, now }, where, verdict) => {
        const soakMinutes = soakOf(position, ladder) / MINUTE;
        const minute = Math.round(Math.max(0, now - soakMinutes) + where * Math.min(now, soakMinutes));
        const bad = { ...series, measurements: [...series.measurements, { minute, verdict }] };
        const gate = judge(bad, position, ladder, now);
        expect(gate.passed).toBe(false);
        expect(gate.reason).toMatch(/breached|unknown|no measurements|last measured|healthy so far/);
      }),
      { numRuns: 300 },
    );
  });

  it('a window without measurements refuses, saying unknown is not healthy', () => {
    fc.assert(
      fc.property(caseArb, ({ ladder, position, now }) => {
        const gate = judge({ everyMinutes: 15, measurements: [] }, position, ladder, now);
        expect(gate.passed).toBe(false);
        expect(gate.reason).toContain('unknown is not healthy');
      }),
    );
  });

  it('is part of evaluateMove: a forward move refused by its criteria is refused, a rollback never is', () => {
    const ladder: LadderConfig = { canarySteps: [5, 25], skip: [], soakMs: { dark: 0, shadow: 0, canary: 60 * MINUTE, full: 0 }, canarySoakMs: {} };
    const criteria = [{ monitor: 'error rate', everyMs: 15 * MINUTE, measurements: [] }];
    const forward = evaluateMove({ flagKey: 'f', from: { stage: 'canary', percent: 5 }, to: { stage: 'canary', percent: 25 }, enteredAt: at(0), now: at(120), ladder, exitCriteria: criteria });
    expect(forward.allowed).toBe(false);
    expect(forward.reasons[0]).toBe("no measurements of 'error rate' since canary 5% began (2026-11-20T10:00Z): unknown is not healthy; rollout health measures it (the health workflow, every 15 min).");
    const back = evaluateMove({ flagKey: 'f', from: { stage: 'canary', percent: 25 }, to: { stage: 'off' }, enteredAt: at(0), now: at(1), ladder, exitCriteria: criteria });
    expect(back).toMatchObject({ allowed: true, kind: 'rollback' });
  });
});

describe('the gate says why, with its numbers', () => {
  const ladder: LadderConfig = { canarySteps: [5, 25], skip: [], soakMs: { dark: 0, shadow: 0, canary: 24 * 60 * MINUTE, full: 0 }, canarySoakMs: {} };
  const every15 = (from: number, to: number, verdict: (minute: number) => MeasuredVerdict = () => 'healthy'): Series['measurements'] => {
    const out: Series['measurements'] = [];
    for (let minute = from; minute <= to; minute += 15) out.push({ minute, verdict: verdict(minute) });
    return out;
  };
  const canary25: Position = { stage: 'canary', percent: 25 };

  it('counts the healthy measurements over the soak window', () => {
    const gate = judge({ everyMinutes: 15, measurements: every15(5, 1445) }, canary25, ladder, 1450);
    expect(gate).toEqual({ gate: 'exit-criteria', passed: true, reason: "'p95 latency': 97 of 97 measurements healthy over the last 24 h." });
  });

  it('names the breach and when the soak restarted', () => {
    const series = { everyMinutes: 15, measurements: every15(5, 1445, (m) => (m === 185 ? 'breach' : 'healthy')) };
    const gate = judge(series, canary25, ladder, 1450);
    expect(gate.passed).toBe(false);
    expect(gate.reason).toBe("'p95 latency' breached at 2026-11-20T13:05Z (breach at 185): soak restarts; 20.8 h of 24 h healthy so far (84 measurements since 2026-11-20T13:20Z); 3.2 h to go.");
  });

  it('names a gap longer than two cadences', () => {
    const series = { everyMinutes: 15, measurements: [...every15(5, 500), ...every15(800, 1445)] };
    expect(judge(series, canary25, ladder, 1450).reason).toMatch(/^no measurements of 'p95 latency' between 2026-11-20T18:20Z and 2026-11-20T23:20Z \(more than 30 min\): unknown is not healthy, soak restarts;/);
  });

  it('says a stale last measurement is unknown', () => {
    expect(judge({ everyMinutes: 15, measurements: every15(5, 1400) }, canary25, ladder, 1450).reason).toBe(
      "'p95 latency' was last measured at 2026-11-21T09:20Z, more than 30 min (twice its cadence) before 2026-11-21T10:10Z: unknown is not healthy.",
    );
  });

  it('with during, judges only the watched time after the move', () => {
    const series = { everyMinutes: 15, measurements: every15(5, 300) };
    expect(judge(series, { stage: 'canary', percent: 5 }, { ...ladder, soakMs: { ...ladder.soakMs, canary: 60 * MINUTE } }, 2000, 240)).toMatchObject({ passed: true, reason: expect.stringContaining('watched for 4 h after a move only') as unknown });
  });
});

describe('stage rollbacks in one health run, property', () => {
  const monitor = (name: string): MonitorSpec => ({ name, sql: 'SELECT 1', above: 0 });
  const environment = (flags: FlagSpec[], rollbackTo?: 'previous' | 'off'): Environment => ({
    name: 'staging',
    file: 'environments/staging.yaml',
    database: { kind: 'embedded', dir: '.rollout/db' },
    migrations: DEFAULT_MIGRATION_SETTINGS,
    flags: new Map(flags.map((f) => [f.key, f])),
    checks: [],
    monitors: [monitor('error rate'), monitor('p95 latency')],
    exitCriteria: { all: ['error rate'], ...(rollbackTo ? { rollbackTo } : {}) },
  });
  const flag = (key: string, killSwitch = false): FlagSpec => ({ key, value: { enabled: true }, killSwitch, dependsOn: [], rollout: { stage: 'dark' } });

  it('a breach at any stage above off (below full) moves the flag back at once: one rung, or to off', () => {
    fc.assert(
      fc.property(ladderArb, fc.boolean(), fc.nat(), (ladder, toOff, pick) => {
        const rungs = watchedPositions(ladder);
        const position = rungs[pick % rungs.length];
        const env = environment([flag('checkout.v2'), flag('global.safe_mode', true)], toOff ? 'off' : undefined);
        const positions = new Map([
          ['checkout.v2', { position, since: at(0) }],
          ['global.safe_mode', { position, since: at(0) }],
        ]);
        const rollbacks = planStageRollbacks({ env, positions, breached: new Set(['error rate']), ladder, now: at(10) });
        // Kill switches are never moved by criteria; the flag is, below where it was.
        expect(rollbacks.map((r) => r.flag)).toEqual(['checkout.v2']);
        const [r] = rollbacks;
        expect(comparePositions(r.to, position)).toBeLessThan(0);
        expect(r.to).toEqual(toOff ? { stage: 'off' } : previousRung(position, ladder));
        expect(ladderRungs(ladder).some((rung) => comparePositions(rung, r.to) === 0)).toBe(true);
        // Healthy or unknown monitors, and monitors that are no criterion, move nothing.
        expect(planStageRollbacks({ env, positions, breached: new Set(['p95 latency']), ladder, now: at(10) })).toEqual([]);
        expect(planStageRollbacks({ env, positions: new Map([['checkout.v2', { position: { stage: 'full' }, since: at(0) }]]), breached: new Set(['error rate']), ladder, now: at(10) })).toEqual([]);
      }),
    );
  });
});
