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

describe('the gate at its edges, by example', () => {
  // A 1 h canary soak, a monitor every 15 min: evidence stands for 30 min.
  const ladder: LadderConfig = { canarySteps: [5, 25], skip: [], soakMs: { dark: 0, shadow: 0, canary: 60 * MINUTE, full: 0 }, canarySoakMs: {} };
  const canary5: Position = { stage: 'canary', percent: 5 };
  const healthy = (...minutes: number[]): Series['measurements'] => minutes.map((minute) => ({ minute, verdict: 'healthy' }));
  const gateOf = (measurements: Series['measurements'], now: number, options: { position?: Position; during?: number } = {}) => judge({ everyMinutes: 15, measurements }, options.position ?? canary5, ladder, now, options.during);
  const raw = (measurements: Measurement[], now: number) =>
    exitCriteriaGates({ flagKey: 'checkout.v2', position: canary5, since: at(0), ladder, now: at(now), criteria: [{ monitor: 'p95 latency', everyMs: 15 * MINUTE, measurements }] })[0];

  it('a last measurement exactly two cadences old still stands', () => {
    // Window [90, 150]: 90, 105 and 120, the last standing until 150.
    expect(gateOf(healthy(0, 15, 30, 45, 60, 75, 90, 105, 120), 150)).toEqual({ gate: 'exit-criteria', passed: true, reason: "'p95 latency': 3 of 3 measurements healthy over the last 1 h." });
    expect(gateOf(healthy(0, 15, 30, 45, 60, 75, 90, 105, 120), 151).reason).toBe(
      "'p95 latency' was last measured at 2026-11-20T12:00Z, more than 30 min (twice its cadence) before 2026-11-20T12:31Z: unknown is not healthy.",
    );
  });

  it('two measurements exactly two cadences apart leave no gap', () => {
    // Window [15, 75]: 30 … 75, and 0, whose evidence reaches 30.
    expect(gateOf(healthy(0, 30, 45, 60, 75), 75)).toMatchObject({ passed: true, reason: "'p95 latency': 5 of 5 measurements healthy over the last 1 h." });
  });

  it('counts the measurements inside the window and the one that covers its start, not older ones', () => {
    // Window [90, 150]: 150, 135, 120, 105 and 90 (at its very start); not 0 … 75.
    expect(gateOf(healthy(0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150), 150).reason).toBe("'p95 latency': 5 of 5 measurements healthy over the last 1 h.");
  });

  it('with no soak, judges the instant of the move by the last measurement', () => {
    expect(gateOf(healthy(0, 10), 20, { position: { stage: 'dark' } })).toEqual({ gate: 'exit-criteria', passed: true, reason: "'p95 latency': 1 of 1 measurements healthy at 2026-11-20T10:10Z." });
  });

  it('says when the only healthy run began, measured since the move or first measured after it', () => {
    expect(gateOf(healthy(0, 15, 30), 30).reason).toBe("'p95 latency' measured since canary 5% began (2026-11-20T10:00Z): 30 min of 1 h healthy so far (3 measurements since 2026-11-20T10:00Z); 30 min to go.");
    expect(gateOf(healthy(10), 20).reason).toBe(
      "'p95 latency' first measured after canary 5% began (2026-11-20T10:00Z) at 2026-11-20T10:10Z: 10 min of 1 h healthy so far (1 measurement since 2026-11-20T10:10Z); 50 min to go.",
    );
  });

  it('names a gap with how long is left to go', () => {
    expect(gateOf(healthy(0, 15, 60, 75), 90).reason).toBe(
      "no measurements of 'p95 latency' between 2026-11-20T10:15Z and 2026-11-20T11:00Z (more than 30 min): unknown is not healthy, soak restarts; 30 min of 1 h healthy so far (2 measurements since 2026-11-20T11:00Z); 30 min to go.",
    );
  });

  it('an unknown measurement is named as unknown, not as a breach', () => {
    expect(gateOf([...healthy(0, 15, 30, 45, 60), { minute: 75, verdict: 'unknown' }], 80).reason).toBe(
      "'p95 latency' was unknown at 2026-11-20T11:15Z (unknown at 75; unknown is not healthy): the soak restarts once it is measured healthy again.",
    );
  });

  it('only measurements in [since, now] (or the watched time) count, both ends included', () => {
    // Before the move: ignored, so the window's start is not covered.
    expect(gateOf(healthy(-30, -15, 15, 30, 45, 60), 70).reason).toMatch(/^'p95 latency' first measured after canary 5% began \(2026-11-20T10:00Z\) at 2026-11-20T10:15Z:/);
    // Exactly at the move: counted.
    expect(gateOf(healthy(0, 15, 30, 45, 60), 60).passed).toBe(true);
    // Exactly now: counted, a breach then refuses.
    expect(gateOf([...healthy(0, 15, 30, 45, 60), { minute: 75, verdict: 'breach' }], 75).reason).toMatch(/^'p95 latency' breached at 2026-11-20T11:15Z/);
    // After the watched time ended (during: 1 h after the move), a breach is not judged.
    expect(gateOf([...healthy(0, 15, 30, 45, 60), { minute: 70, verdict: 'breach' }], 70, { during: 60 })).toMatchObject({ passed: true });
  });

  it('at one instant a breach outweighs an unknown and both outweigh healthy, in any order', () => {
    const base = [0, 15, 30, 45].map((m): Measurement => ({ at: at(m), verdict: 'healthy', detail: 'ok' }));
    const m = (verdict: MeasuredVerdict, detail: string): Measurement => ({ at: at(60), verdict, detail });
    const orders: Measurement[][] = [
      [m('healthy', 'ok'), m('breach', 'p95 900 ms')],
      [m('breach', 'p95 900 ms'), m('healthy', 'ok')],
      [m('unknown', 'no rows'), m('breach', 'p95 900 ms'), m('healthy', 'ok')],
      [m('healthy', 'ok'), m('unknown', 'no rows'), m('breach', 'p95 900 ms')],
    ];
    for (const last of orders) expect(raw([...base, ...last], 60).reason).toBe("'p95 latency' breached at 2026-11-20T11:00Z (p95 900 ms): the soak restarts once it is measured healthy again.");
    for (const last of [[m('healthy', 'ok'), m('unknown', 'no rows')], [m('unknown', 'no rows'), m('healthy', 'ok')]]) expect(raw([...base, ...last], 60).reason).toMatch(/^'p95 latency' was unknown at 2026-11-20T11:00Z \(no rows;/);
  });

  it('takes measurements in any order', () => {
    const series = [0, 15, 30, 45, 60, 75].map((m): Measurement => ({ at: at(m), verdict: 'healthy', detail: 'ok' }));
    const expected = raw(series, 75);
    expect(expected.passed).toBe(true);
    expect(raw([...series].reverse(), 75)).toEqual(expected);
    expect(raw([series[3], series[0], series[5], series[1], series[4], series[2]], 75)).toEqual(expected);
  });

  it('without a record of when the flag arrived, cannot judge', () => {
    const gate = exitCriteriaGates({ flagKey: 'checkout.v2', position: canary5, ladder, now: at(60), criteria: [{ monitor: 'p95 latency', everyMs: 15 * MINUTE, measurements: [] }] })[0];
    expect(gate).toEqual({
      gate: 'exit-criteria',
      passed: false,
      reason: "'p95 latency' cannot be judged: the ledger has no record of when checkout.v2 entered canary 5%, so no measurement can be tied to it; the window counts from the next recorded apply.",
    });
  });
});
