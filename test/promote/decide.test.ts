/**
 * decidePromotion as the pure function it is: upstream live state × downstream file × ladder ×
 * clock → what each flag does and which edits the downstream file gets. One case per branch of
 * docs/promotion.md's rules, with the reasons a reviewer reads; no database.
 */
import { describe, expect, it } from 'vitest';
import type { Environment, FlagSpec, JsonValue } from '../../actions/engine/config/model.ts';
import { decidePromotion, holdRefused, type UpstreamLive } from '../../actions/engine/promote/decide.ts';
import { DEFAULT_LADDER, type Position, type Stage } from '../../actions/engine/stages/ladder.ts';
import type { LiveRollout } from '../../actions/engine/store/live-state.ts';
import { testEnvironment } from '../support/databases.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);

function flag(key: string, value: JsonValue, extra: Partial<FlagSpec> = {}): FlagSpec {
  return { key, value, killSwitch: false, dependsOn: [], ...extra };
}

function environment(name: string, flags: FlagSpec[]): Environment {
  return testEnvironment({ kind: 'embedded', dir: '.rollout/db' }, { name, file: `environments/${name}.yaml`, flags: new Map(flags.map((f) => [f.key, f])) });
}

interface LiveEntry {
  value: JsonValue;
  stage?: Stage | null;
  percent?: number;
  since?: Date;
}

function live(entries: Record<string, LiveEntry>, checks: { passing: boolean; reason?: string } = { passing: true }): UpstreamLive {
  const flags = new Map<string, { value: JsonValue }>();
  const rollouts = new Map<string, LiveRollout>();
  for (const [key, e] of Object.entries(entries)) {
    flags.set(key, { value: e.value });
    rollouts.set(key, { stage: e.stage ?? null, percent: e.percent ?? null, stageSince: e.since ?? null, recordedValue: e.value, recordedKind: 'apply', ledgerId: 1 });
  }
  return {
    environment: 'staging',
    live: { flagTable: 'rollout.flags', flagTableExists: true, flags, rollouts },
    checksPassing: checks.passing,
    ...(checks.reason ? { checksReason: checks.reason } : {}),
  };
}

function decide(upFlags: FlagSpec[], upLive: UpstreamLive, downFlags: FlagSpec[]) {
  return decidePromotion({ upstream: environment('staging', upFlags), upstreamLive: upLive, downstream: environment('production', downFlags), ladder: DEFAULT_LADDER, now: NOW });
}

const rolled = (stage: Stage, percent?: number): { rollout: { stage: Stage; percent?: number } } => ({ rollout: { stage, ...(percent === undefined ? {} : { percent }) } });
const canary = (percent: number): Position => ({ stage: 'canary', percent });

describe('decidePromotion', () => {
  it('holds a flag the upstream has not applied, keeping the downstream position, and edits nothing', () => {
    const d = decide([flag('a', 1, rolled('dark'))], live({}), [flag('a', 1, rolled('off'))]);
    expect(d.edits).toEqual([]);
    expect(d.flags).toEqual([{ key: 'a', action: 'hold', from: { stage: 'off' }, to: { stage: 'off' }, reasons: ['a is not applied in staging yet (no live value rollout wrote); apply staging first.'] }]);
    // Without a downstream rollout: no positions at all.
    expect(decide([flag('a', 1)], live({}), [flag('a', 1)]).flags[0]).not.toHaveProperty('from');
  });

  it('carries a kill switch as a value even while the upstream checks fail; the same value is "same"; a new one is added', () => {
    const sw = (v: boolean): FlagSpec => flag('kill', { enabled: v }, { killSwitch: true });
    const failing = { passing: false, reason: 'ledger #4 was reverted' };
    const changed = decide([sw(true)], live({ kill: { value: { enabled: true } } }, failing), [sw(false)]);
    expect(changed.edits).toEqual([{ kind: 'value', key: 'kill', value: { enabled: true } }]);
    expect(changed.flags[0]).toMatchObject({ action: 'value', valueBefore: { enabled: false }, valueAfter: { enabled: true } });
    expect(changed.flags[0].reasons[0]).toBe('kill is a kill switch: its value is promoted as it is in staging, whatever any gate says.');

    expect(decide([sw(true)], live({ kill: { value: { enabled: true } } }), [sw(true)])).toEqual({ edits: [], flags: [{ key: 'kill', action: 'same', reasons: [] }] });

    const added = decide([sw(true)], live({ kill: { value: { enabled: true } } }, failing), []);
    expect(added.edits).toEqual([{ kind: 'add', key: 'kill', flag: { value: { enabled: true }, kill_switch: true } }]);
    expect(added.flags[0]).toMatchObject({ action: 'add', valueAfter: { enabled: true } });
  });

  it('while the upstream checks fail, holds every other flag and says why', () => {
    const d = decide([flag('a', 2, rolled('full'))], live({ a: { value: 2, stage: 'full', since: ago(100 * HOUR) } }, { passing: false, reason: 'ledger #4 was reverted' }), [flag('a', 1, rolled('dark'))]);
    expect(d.edits).toEqual([]);
    expect(d.flags[0]).toMatchObject({ action: 'hold', from: { stage: 'dark' }, to: { stage: 'dark' } });
    expect(d.flags[0].reasons).toEqual(["staging's checks are failing (ledger #4 was reverted); only kill switches are promoted until they pass."]);
    const unexplained = decide([flag('a', 2)], live({ a: { value: 2 } }, { passing: false }), [flag('a', 1)]);
    expect(unexplained.flags[0].reasons[0]).toContain('(its latest apply was reverted)');
  });

  it('adds a flag new upstream: at off when it has a rollout, as it is otherwise, after the flag before it in the upstream file', () => {
    const spec = flag('b', { v: 2 }, { offValue: { v: 0 }, contract: 'c', owner: '@o', description: 'd', dependsOn: ['a'], rollout: { stage: 'canary', percent: 25, segments: ['internal'] } });
    const d = decide([flag('a', 1), spec, flag('c', 3)], live({ a: { value: 1 }, b: { value: { v: 2 }, stage: 'canary', percent: 25 }, c: { value: 3 } }), [flag('a', 1)]);
    expect(d.edits).toEqual([
      { kind: 'add', key: 'b', after: 'a', flag: { value: { v: 2 }, off_value: { v: 0 }, contract: 'c', owner: '@o', description: 'd', depends_on: ['a'], rollout: { stage: 'off', segments: ['internal'] } } },
      // c's anchor is a, the last flag the downstream already has: b is not there yet.
      { kind: 'add', key: 'c', after: 'a', flag: { value: 3 } },
    ]);
    expect(d.flags.map((f) => f.action)).toEqual(['same', 'add', 'add']);
    expect(d.flags[1]).toMatchObject({ to: { stage: 'off' }, upstream: canary(25) });
    expect(d.flags[1].reasons[0]).toBe('b is new in staging (at canary 25%): it arrives in production at off with staging\'s value, and climbs one rung per promotion.');
    expect(d.flags[2].reasons[0]).toBe('c is new in staging and has no rollout: it arrives in production with staging\'s value.');
    // First in the file: no anchor.
    expect(decide([flag('z', 1)], live({ z: { value: 1 } }), []).edits).toEqual([{ kind: 'add', key: 'z', flag: { value: 1 } }]);
  });

  it('plain values: carried when they differ, "same" when not; a rollout upstream but none downstream is held for a hand edit', () => {
    expect(decide([flag('a', 2)], live({ a: { value: 2 } }), [flag('a', 1)]).edits).toEqual([{ kind: 'value', key: 'a', value: 2 }]);
    expect(decide([flag('a', 2)], live({ a: { value: 2 } }), [flag('a', 2)]).flags[0].action).toBe('same');
    const d = decide([flag('a', 2, rolled('dark'))], live({ a: { value: 2, stage: 'dark', since: ago(10 * HOUR) } }), [flag('a', 1)]);
    expect(d.edits).toEqual([]);
    expect(d.flags[0]).toEqual({ key: 'a', action: 'hold', upstream: { stage: 'dark' }, reasons: ['a has a rollout in staging (dark) but none in production; add rollout: to environments/production.yaml by hand.'] });
  });

  it('at the same position: the value is carried, or nothing changes', () => {
    const up = live({ a: { value: 2, stage: 'canary', percent: 5, since: ago(HOUR) } });
    const d = decide([flag('a', 2, rolled('canary', 5))], up, [flag('a', 1, rolled('canary', 5))]);
    expect(d.edits).toEqual([{ kind: 'value', key: 'a', value: 2 }]);
    expect(d.flags[0]).toMatchObject({ action: 'value', from: canary(5), to: canary(5), valueBefore: 1, valueAfter: 2, reasons: ['a is at canary 5% in both; its value is promoted as it is in staging.'] });
    expect(decide([flag('a', 2, rolled('canary', 5))], up, [flag('a', 2, rolled('canary', 5))]).flags[0]).toMatchObject({ action: 'same', from: canary(5), to: canary(5) });
  });

  it('a rollback upstream is followed at once, however recent, with the value when it differs', () => {
    const d = decide([flag('a', 2, rolled('dark'))], live({ a: { value: 2, stage: 'dark', since: NOW } }), [flag('a', 1, rolled('canary', 25))]);
    expect(d.edits).toEqual([
      { kind: 'position', key: 'a', to: { stage: 'dark' } },
      { kind: 'value', key: 'a', value: 2 },
    ]);
    expect(d.flags[0]).toMatchObject({ action: 'rollback', from: canary(25), to: { stage: 'dark' } });
    expect(d.flags[0].reasons).toEqual(['staging rolled a back to dark; production follows at once from canary 25% (rollbacks are always allowed).']);
    expect(decide([flag('a', 1, rolled('off'))], live({ a: { value: 1, stage: 'off' } }), [flag('a', 1, rolled('dark'))]).edits).toEqual([{ kind: 'position', key: 'a', to: { stage: 'off' } }]);
  });

  it('moves forward one rung only once the upstream has soaked it, saying how far ahead the upstream is', () => {
    const soaked = decide([flag('a', 1, rolled('full'))], live({ a: { value: 1, stage: 'full', since: ago(2 * HOUR) } }), [flag('a', 1, rolled('canary', 25))]);
    expect(soaked.edits).toEqual([{ kind: 'position', key: 'a', to: canary(50) }]);
    expect(soaked.flags[0]).toMatchObject({ action: 'move', from: canary(25), to: canary(50), upstream: { stage: 'full' } });
    expect(soaked.flags[0].reasons[0]).toBe('a: canary 25% → canary 50% in production (staging is at full; one rung per promotion).');

    // The upstream exactly at the next rung: no "one rung per promotion" note; the value comes along.
    const next = decide([flag('a', 2, rolled('shadow'))], live({ a: { value: 2, stage: 'shadow', since: ago(2 * HOUR) } }), [flag('a', 1, rolled('dark'))]);
    expect(next.edits).toEqual([
      { kind: 'position', key: 'a', to: { stage: 'shadow' } },
      { kind: 'value', key: 'a', value: 2 },
    ]);
    expect(next.flags[0].reasons[0]).toBe('a: dark → shadow in production.');
    expect(next.flags[0]).toMatchObject({ valueBefore: 1, valueAfter: 2 });
  });

  it('holds a forward move the upstream has not soaked, with the gate\'s reason', () => {
    const d = decide([flag('a', 1, rolled('shadow'))], live({ a: { value: 1, stage: 'shadow', since: ago(HOUR / 2) } }), [flag('a', 1, rolled('dark'))]);
    expect(d.edits).toEqual([]);
    expect(d.flags[0]).toMatchObject({ action: 'hold', from: { stage: 'dark' }, to: { stage: 'dark' }, upstream: { stage: 'shadow' } });
    expect(d.flags[0].reasons[0]).toBe('a stays at dark in production: the next rung, shadow, has not soaked in staging yet.');
    expect(d.flags[0].reasons.length).toBeGreaterThan(1);
  });

  it('holds a downstream position that is not a rung of the ladder', () => {
    const d = decide([flag('a', 1, rolled('full'))], live({ a: { value: 1, stage: 'full', since: ago(100 * HOUR) } }), [flag('a', 1, rolled('canary', 7))]);
    expect(d.edits).toEqual([]);
    expect(d.flags[0].reasons).toEqual(["canary 7% is not a rung of this repository's ladder; fix environments/production.yaml (rollout validate says how)."]);
  });
});

describe('holdRefused', () => {
  it('drops the refused flags\' edits and turns them into holds with the downstream gates\' reasons', () => {
    const d = decide([flag('a', 1, rolled('full')), flag('b', 2)], live({ a: { value: 1, stage: 'full', since: ago(100 * HOUR) }, b: { value: 2 } }), [flag('a', 1, rolled('dark')), flag('b', 1)]);
    const held = holdRefused(d, new Map([['a', ['a has been at dark for 10 min; soak is 1 h.']]]), 'production');
    expect(held.edits).toEqual([{ kind: 'value', key: 'b', value: 2 }]);
    expect(held.flags[0]).toMatchObject({ action: 'hold', from: { stage: 'dark' }, to: { stage: 'dark' }, reasons: ["a stays at dark: production's own gates refuse the move.", 'a has been at dark for 10 min; soak is 1 h.'] });
    expect(held.flags[1]).toBe(d.flags[1]);
    expect(holdRefused(d, new Map(), 'production')).toBe(d);
  });
});
