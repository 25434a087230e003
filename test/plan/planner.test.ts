import { describe, expect, it } from 'vitest';
import type { Environment, FlagSpec, JsonValue } from '../../actions/engine/config/model.ts';
import { DEFAULT_MIGRATION_SETTINGS } from '../../actions/engine/config/model.ts';
import { buildPlan } from '../../actions/engine/plan/planner.ts';
import type { MigrationPlanPart } from '../../actions/engine/plan/types.ts';
import { diffJson, formatDiffLine } from '../../actions/engine/plan/json-diff.ts';
import type { LiveDefinition, LiveRollout, LiveState } from '../../actions/engine/store/live-state.ts';
import { renderPlan } from '../../actions/engine/render/plan.ts';

function flag(key: string, value: JsonValue, extra: Partial<FlagSpec> = {}): FlagSpec {
  return { key, value, killSwitch: false, dependsOn: [], ...extra };
}

function env(flags: FlagSpec[]): Environment {
  return {
    name: 'staging',
    file: 'environments/staging.yaml',
    database: { kind: 'url', urlEnv: 'X' },
    migrations: DEFAULT_MIGRATION_SETTINGS,
    flags: new Map(flags.map((f) => [f.key, f])),
    checks: [],
    monitors: [],
  };
}

function rollout(recordedValue: JsonValue, extra: Partial<LiveRollout> = {}): LiveRollout {
  return { stage: null, percent: null, stageSince: null, recordedValue, recordedKind: 'apply', ledgerId: 1, ...extra };
}

/** What the serving columns hold for a plain flag this version wrote. */
function definition(value: JsonValue, extra: Partial<LiveDefinition> = {}): LiveDefinition {
  return { value, offValue: value, segments: [], killSwitch: false, valueText: JSON.stringify(value), text: JSON.stringify(value), ...extra };
}

/**
 * A database this version wrote: `flags` is what the value table holds; each rollout row has
 * a definition whose value is what rollout recorded (unless the row says otherwise, or, with
 * definition: undefined given, has none: a row an older version wrote).
 */
function live(flags: Record<string, JsonValue>, rollouts: Record<string, LiveRollout> = {}): LiveState {
  const withDefinitions = Object.entries(rollouts).map(([k, r]): [string, LiveRollout] => [k, 'definition' in r ? r : { ...r, definition: definition(r.recordedValue ?? flags[k] ?? null) }]);
  return {
    flagTable: 'rollout.flags',
    flagTableExists: true,
    flags: new Map(
      Object.entries(flags).map(([k, v]) => {
        const defined = withDefinitions.find(([key]) => key === k)?.[1].definition;
        return [k, { value: defined ? (defined.override ?? defined.value) : v, stored: { value: v, text: JSON.stringify(v) } }];
      }),
    ),
    rollouts: new Map(withDefinitions),
  };
}

const noMigrations = { appliedCount: 0, pending: [], blockers: [] };
const plan = (desired: Environment, state: LiveState, commit: string | null = 'abc') => buildPlan({ desired, live: state, migrations: noMigrations, commit });

describe('planner', () => {
  it('adds, changes and removes flags, and leaves equal ones alone', () => {
    const p = plan(
      env([flag('a', true), flag('b', { epsilon: 0.1, version: 'v1' }), flag('c', 1)]),
      live({ b: { epsilon: 0.08, version: 'v1' }, c: 1, d: 'old' }, { b: rollout({ epsilon: 0.08, version: 'v1' }), c: rollout(1), d: rollout('old') }),
    );
    expect(p.flags.map((c) => [c.key, c.action])).toEqual([
      ['a', 'add'],
      ['b', 'change'],
      ['d', 'remove'],
    ]);
    expect(p.summary).toMatchObject({ add: 1, change: 1, remove: 1, drift: 0 });
    expect(p.flags[2].before).toBe('old');
    expect(p.noop).toBe(false);
  });

  it('shows a changed JSON value as per-path lines, not two blobs', () => {
    const lines = diffJson({ version: 'v1', epsilon: 0.08, tags: ['a'] }, { version: 'v2', epsilon: 0.08, tags: ['a', 'b'], region: 'eu' }).map(formatDiffLine);
    expect(lines).toEqual(['~ version: "v1" → "v2"', '+ tags[1]: "b"', '+ region: "eu"']);
    expect(diffJson(true, false).map(formatDiffLine)).toEqual(['~ true → false']);
  });

  it('tells drift (changed outside Git) from a Git change', () => {
    const desired = env([flag('a', { enabled: true })]);
    const gitChange = plan(desired, live({ a: { enabled: false } }, { a: rollout({ enabled: false }) }));
    expect(gitChange.flags[0]).toMatchObject({ action: 'change' });
    expect(gitChange.flags[0].drift).toBeUndefined();
    const drifted = plan(env([flag('a', { enabled: false })]), live({ a: { enabled: true } }, { a: rollout({ enabled: false }) }));
    expect(drifted.flags[0]).toMatchObject({ action: 'change', drift: { recorded: { enabled: false }, live: { enabled: true } } });
    expect(drifted.summary.drift).toBe(1);
  });

  it('holds a value set by break-glass until Git says the same', () => {
    const desired = env([flag('global.safe_mode', { enabled: false }, { killSwitch: true })]);
    // Break-glass keeps Git's definition and sets an override, which the value table holds.
    const tripped = definition({ enabled: false }, { killSwitch: true, override: { enabled: true } });
    const state = live({ 'global.safe_mode': { enabled: true } }, { 'global.safe_mode': rollout({ enabled: true }, { recordedKind: 'break-glass', ledgerId: 7, definition: tripped }) });
    const p = plan(desired, state);
    expect(p.flags[0]).toMatchObject({ action: 'hold', breakGlass: { ledgerId: 7 } });
    expect(p.noop).toBe(true);
    expect(renderPlan(p, 'text')).toContain('break-glass (ledger #7)');
    const reconciled = plan(env([flag('global.safe_mode', { enabled: true }, { killSwitch: true })]), state);
    // Git caught up: apply records that (issue 13, defect 1), so that Git owns the flag again.
    expect(reconciled.flags).toMatchObject([{ action: 'reconcile', valueChanged: false, breakGlass: { ledgerId: 7 } }]);
    expect(reconciled.noop).toBe(false);
    expect(reconciled.summary.reconcile).toBe(1);
  });

  it('never touches live flags rollout does not manage', () => {
    const p = plan(env([]), live({ legacy: 1 }));
    expect(p.flags).toEqual([]);
    expect(p.unmanaged).toEqual(['legacy']);
    expect(p.noop).toBe(true);
  });

  it('hashes desired × live × commit, independent of key order', () => {
    const a = plan(env([flag('x', { a: 1, b: 2 })]), live({ y: 1 }));
    const b = plan(env([flag('x', { b: 2, a: 1 })]), live({ y: 1 }));
    expect(a.hash).toBe(b.hash);
    expect(plan(env([flag('x', { a: 1, b: 3 })]), live({ y: 1 })).hash).not.toBe(a.hash);
    expect(plan(env([flag('x', { a: 1, b: 2 })]), live({ y: 2 })).hash).not.toBe(a.hash);
    expect(plan(env([flag('x', { a: 1, b: 2 })]), live({ y: 1 }), 'def').hash).not.toBe(a.hash);
    // A flag whose desired value equals the live one is hashed from the live side: every part still counts.
    const same = plan(env([flag('x', { a: 1 })]), live({ x: { a: 1 } }));
    expect(plan(env([flag('x', { a: 1 })]), live({ x: { a: 1 } })).hash).toBe(same.hash);
    expect(plan(env([flag('x', { a: 2 })]), live({ x: { a: 1 } })).hash).not.toBe(same.hash);
    expect(plan(env([flag('x', { a: 1 })]), live({ x: { a: 2 } })).hash).not.toBe(same.hash);
    expect(plan(env([flag('x', { a: 1 }, { rollout: { stage: 'dark' } })]), live({ x: { a: 1 } })).hash).not.toBe(same.hash);
    expect(plan(env([flag('x', { a: 1 })]), live({ x: { a: 1 } }, { x: rollout({ a: 1 }) })).hash).not.toBe(same.hash);
    expect(plan(env([flag('x', { a: 1 })]), live({ x: { a: 1 } }, { x: rollout({ a: 1 }, { recordedKind: 'break-glass' }) })).hash).not.toBe(
      plan(env([flag('x', { a: 1 })]), live({ x: { a: 1 } }, { x: rollout({ a: 1 }) })).hash,
    );
  });

  it('hashes the pending migrations (version and checksum) and what blocks them', () => {
    const desired = env([flag('x', 1)]);
    const state = live({ x: 1 });
    const pending = (checksum: string) => ({ version: '1', name: 'init', file: 'migrations/0001_init.sql', checksum, transactional: true, findings: [] });
    const withMigrations = (migrations: MigrationPlanPart) => buildPlan({ desired, live: state, migrations, commit: 'abc' }).hash;
    const none = withMigrations(noMigrations);
    const one = withMigrations({ appliedCount: 0, pending: [pending('aaa')], blockers: [] });
    expect(one).not.toBe(none);
    expect(withMigrations({ appliedCount: 0, pending: [pending('bbb')], blockers: [] })).not.toBe(one);
    expect(withMigrations({ appliedCount: 0, pending: [{ ...pending('aaa'), version: '2' }], blockers: [] })).not.toBe(one);
    expect(withMigrations({ appliedCount: 0, pending: [pending('aaa')], blockers: ['migrations/0001_init.sql:1:1: checksum changed'] })).not.toBe(one);
    expect(withMigrations({ appliedCount: 0, pending: [pending('aaa')], blockers: [] })).toBe(one);
  });

  it('moves stages with gates: forward one step after soak, rollbacks always', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const desired = env([flag('r', true, { rollout: { stage: 'canary', percent: 25 } }), flag('s', true, { rollout: { stage: 'dark' } })]);
    const state = live(
      { r: true, s: true },
      {
        r: rollout(true, { stage: 'canary', percent: 5, stageSince: new Date('2026-11-25T00:00:00Z') }),
        s: rollout(true, { stage: 'canary', percent: 50, stageSince: new Date('2026-11-25T11:00:00Z') }),
      },
    );
    const p = buildPlan({ desired, live: state, migrations: noMigrations, commit: null, gates: { now } });
    const r = p.flags.find((c) => c.key === 'r')!;
    expect(r.gate).toMatchObject({ allowed: false, kind: 'forward' });
    expect(r.gate!.reasons.join(' ')).toMatch(/12 h of/);
    expect(p.flags.find((c) => c.key === 's')!.gate).toMatchObject({ allowed: true, kind: 'rollback' });
    expect(p.summary.refused).toBe(1);
  });

  it('says an unreadable upstream is unreadable, not "at off" or "failing its checks" (issue 13, defect 4)', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const desired = env([flag('checkout.new_flow', true, { rollout: { stage: 'dark' } }), flag('safe', { enabled: true }, { killSwitch: true })]);
    const state = live({ 'checkout.new_flow': true, safe: { enabled: false } }, {
      'checkout.new_flow': rollout(true, { stage: 'off', percent: null, stageSince: new Date('2026-11-20T00:00:00Z') }),
      safe: rollout({ enabled: false }),
    });
    const upstream = { environment: 'staging', positions: new Map(), checksPassing: false, unreadable: 'connect ECONNREFUSED 127.0.0.1:5433' };
    const p = buildPlan({ desired, live: state, migrations: noMigrations, commit: null, gates: { now, upstream } });
    const move = p.flags.find((c) => c.key === 'checkout.new_flow')!;
    expect(move.gate).toMatchObject({ allowed: false, kind: 'forward' });
    const reasons = move.gate!.reasons.join(' ');
    expect(reasons).toContain('staging (the upstream) could not be read: connect ECONNREFUSED 127.0.0.1:5433');
    expect(reasons).not.toContain('at off in staging');
    expect(reasons).not.toContain("staging's checks are failing");
    // A kill switch goes through whatever the upstream says.
    expect(p.flags.find((c) => c.key === 'safe')!.gate).toMatchObject({ allowed: true, kind: 'kill-switch' });
  });

  it('plans what is served beside the value: the off value, segments, and the value table of a row an older version wrote', () => {
    const internal = { name: 'internal', keys: ['u1'] };
    const staged = (extra: Partial<FlagSpec> = {}): Environment => ({
      ...env([flag('f', { enabled: true }, { offValue: { enabled: false }, rollout: { stage: 'dark', segments: ['internal'] }, ...extra })]),
      segments: new Map([['internal', internal]]),
    });
    const stored = { stage: 'dark' as const, definition: definition({ enabled: true }, { offValue: { enabled: false }, segments: [internal] }) };
    // In sync: the value table holds the off value, the definition Git's.
    const state = live({ f: { enabled: false } }, { f: rollout({ enabled: false }, stored) });
    expect(plan(staged(), state).flags).toEqual([]);

    // A new off value: a change of what is served, the value table moves with it; nothing else.
    const offChanged = plan(staged({ offValue: { enabled: true } }), state).flags[0];
    expect(offChanged).toMatchObject({ action: 'change', valueChanged: false, stageChanged: false, plain: { before: { enabled: false }, after: { enabled: true } } });
    expect(offChanged.servingBefore).toEqual({ offValue: { enabled: false }, segments: [internal], killSwitch: false });
    expect(offChanged.serving).toEqual({ offValue: { enabled: true }, segments: [internal], killSwitch: false });
    expect(plan(staged({ offValue: { enabled: true } }), state).hash).not.toBe(plan(staged(), state).hash);

    // A segment's members change: every flag naming it changes.
    const grown = { ...staged(), segments: new Map([['internal', { name: 'internal', keys: ['u1', 'u2'] }]]) };
    expect(plan(grown, state).flags[0]).toMatchObject({ action: 'change', servingBefore: { segments: [internal] }, serving: { segments: [{ name: 'internal', keys: ['u1', 'u2'] }] } });
    expect(plan(grown, state).flags[0].plain).toBeUndefined();

    // A row an older version wrote: no definition, and the value table serves value to everyone at dark.
    const legacy = live({ f: { enabled: true } }, { f: rollout({ enabled: true }, { stage: 'dark', definition: undefined }) });
    const migrated = plan(staged(), legacy).flags[0];
    expect(migrated).toMatchObject({ action: 'change', valueChanged: false, stageChanged: false, servingBefore: null, plain: { before: { enabled: true }, after: { enabled: false } } });
  });

  it('says who is affected: the share of units whose served value changes, in text and markdown (issue 11)', () => {
    const internal = { name: 'internal', keys: ['u1'] };
    const staged = (rolloutSpec: NonNullable<FlagSpec['rollout']>, value: JsonValue = { enabled: true }): Environment => ({
      ...env([flag('f', value, { offValue: { enabled: false }, rollout: rolloutSpec })]),
      segments: new Map([['internal', internal]]),
    });
    const at = (stage: LiveRollout['stage'], percent: number | null, segments = [internal], value: JsonValue = { enabled: true }) =>
      live({ f: { enabled: false } }, { f: rollout({ enabled: false }, { stage, percent, definition: definition(value, { offValue: { enabled: false }, segments }) }) });

    // canary 5 % → 25 %: 20 % of the other units switch on.
    const widen = plan(staged({ stage: 'canary', percent: 25, segments: ['internal'] }), at('canary', 5));
    expect(widen.flags[0].impact).toEqual({ share: 20, summary: '20% of other units switch from the off value to the value' });
    expect(renderPlan(widen, 'text')).toContain('who: 20% of other units switch from the off value to the value');
    expect(renderPlan(widen, 'markdown')).toContain('**who:** 20% of other units switch from the off value to the value');

    // A value edit at canary 25 %: those 25 % see the new value, and the internal units too.
    const edit = plan(staged({ stage: 'canary', percent: 25, segments: ['internal'] }, { enabled: true, variant: 'b' }), at('canary', 25));
    expect(edit.flags[0].impact?.summary).toBe("units in 'internal' see the new value; 25% of other units see the new value");

    // off → dark: only the internal units.
    const dark = plan(staged({ stage: 'dark', segments: ['internal'] }), at('off', null));
    expect(dark.flags[0].impact).toEqual({ share: 0, summary: "units in 'internal' switch from the off value to the value; no other unit is served anything new" });

    // Rolled back to off from canary 50 %: half switch back.
    const back = plan(staged({ stage: 'off', segments: ['internal'] }), at('canary', 50));
    expect(back.flags[0].impact?.summary).toBe("units in 'internal' switch back to the off value; 50% of other units switch back to the off value");
  });

  it('renders markdown with a table of flags and the diff', () => {
    const p = plan(env([flag('b', { epsilon: 0.1 })]), live({ b: { epsilon: 0.08 } }, { b: rollout({ epsilon: 0.08 }) }));
    const md = renderPlan(p, 'markdown');
    expect(md).toContain('### rollout plan for `staging`');
    expect(md).toContain('| `b` | change |');
    expect(md).toContain('`~ epsilon: 0.08 → 0.1`');
  });

  it('never says "No changes" over a blocked apply: an edited applied migration leaves nothing to run, yet apply refuses', () => {
    const blocker = 'migrations/1_m1.sql:1:1: migrations/1_m1.sql was applied on 2026-11-01T00:00:00.000Z but its content has changed since';
    const p = buildPlan({ desired: env([]), live: live({}), migrations: { appliedCount: 1, pending: [], blockers: [blocker] }, commit: null });
    const text = renderPlan(p, 'text').split('\n');
    expect(text[1]).toBe('Nothing to apply, and apply is blocked by 1 migration problem (below).');
    expect(text[2]).toBe(`✗ blocked: ${blocker}`);
    expect(renderPlan(p, 'markdown')).toContain('Nothing to apply, and apply is blocked by 1 migration problem (below).');
    expect(renderPlan(p, 'markdown')).not.toContain('No changes');
    expect(renderPlan(buildPlan({ desired: env([]), live: live({}), migrations: noMigrations, commit: null }), 'text').split('\n')[1]).toBe('No changes: live state matches Git.');
  });

  it("shows the migrations' warnings, which block nothing, in text and in the PR comment", () => {
    const warning = 'migrations/1_plan.sql:1:1: migrations/1_plan.sql was reformatted since it was applied';
    const p = buildPlan({ desired: env([]), live: live({}), migrations: { appliedCount: 1, pending: [], blockers: [], warnings: [warning] }, commit: null });
    expect(p.migrations.blockers).toEqual([]);
    expect(renderPlan(p, 'text').split('\n').slice(1, 3)).toEqual(['No changes: live state matches Git.', `⚠ ${warning}`]);
    expect(renderPlan(p, 'markdown')).toContain(`> [!WARNING]\n> ${warning}`);
  });

  it('lists flags by key, whatever order the file and the database give them in', () => {
    const p = plan(env([flag('b', 1), flag('a', 1)]), live({ d: 1, c: 1 }, { d: rollout(1), c: rollout(1) }));
    expect(p.flags.map((c) => c.key)).toEqual(['a', 'b', 'c', 'd']);
    expect(p.hash).toBe(plan(env([flag('a', 1), flag('b', 1)]), live({ c: 1, d: 1 }, { c: rollout(1), d: rollout(1) })).hash);
  });

  it('describes a removal: the old value, the old position, what was served beside it, and drift', () => {
    const staged = { stage: 'dark' as const, definition: definition(true, { offValue: false }) };
    const [removal] = plan(env([]), live({ f: false }, { f: rollout(false, staged) })).flags;
    expect(removal).toEqual({
      key: 'f', action: 'remove', before: true, valueChanged: true, diff: [{ op: '-', path: '', before: true }],
      from: { stage: 'dark', percent: null }, to: null, stageChanged: true, killSwitch: false,
      servingBefore: { offValue: false, segments: [], killSwitch: false },
    });
    // A plain flag has no stage to leave; one whose row is gone from the value table has no value to remove.
    const plain = plan(env([]), live({ g: 1 }, { g: rollout(1) })).flags[0];
    expect(plain).toMatchObject({ action: 'remove', stageChanged: false, valueChanged: true });
    const gone = plan(env([]), { ...live({}), rollouts: new Map([['g', { ...rollout(1), definition: definition(1) }]]) }).flags[0];
    expect(gone).toMatchObject({ action: 'remove', valueChanged: false, diff: [], drift: { recorded: 1, live: null } });
    expect('before' in gone).toBe(false);
    // A flag taken as it was (rollout import) and not yet in Git was never written by rollout: not removed.
    const adopted = plan(env([]), live({ h: 1 }, { h: rollout(1, { recordedKind: 'baseline' }) }));
    expect(adopted.flags).toEqual([]);
    expect(adopted.unmanaged).toEqual(['h']);
  });

  it('says what an add and a change replace, and attaches who is affected only where a sentence says it', () => {
    const p = plan(env([flag('a', true), flag('b', 2)]), live({ b: 1 }, { b: rollout(1) }));
    const [add, change] = p.flags;
    expect('before' in add).toBe(false);
    expect(add.plain).toEqual({ after: true });
    // A plain flag every unit gets: no sentence, so no impact.
    expect(add.impact).toBeUndefined();
    expect(change).toMatchObject({ before: 1, after: 2, diff: [{ op: '~', path: '', before: 1, after: 2 }], plain: { before: 1, after: 2 } });
    // A plain value's off value is its value: a value change is no change of what is served beside it.
    expect('servingBefore' in change).toBe(false);
    expect(change.impact).toEqual({ share: 100, summary: 'every unit will see the new value' });
  });

  it('plans a kill-switch mark added or dropped as a change of what is served', () => {
    const state = live({ f: true }, { f: rollout(true) });
    const marked = plan(env([flag('f', true, { killSwitch: true })]), state).flags[0];
    expect(marked).toMatchObject({ action: 'change', valueChanged: false, killSwitch: true, servingBefore: { killSwitch: false }, serving: { killSwitch: true } });
  });

  it('hashes what the plan is made of: positions, what rollout recorded, and a staged value at any stage', () => {
    const at = (rolloutSpec: NonNullable<FlagSpec['rollout']>, value: JsonValue = true) => env([flag('x', value, { offValue: false, rollout: rolloutSpec })]);
    const state = live({ x: false }, { x: rollout(false, { stage: 'dark', definition: definition(true, { offValue: false }) }) });
    const dark = plan(at({ stage: 'dark' }), state).hash;
    expect(plan(at({ stage: 'canary', percent: 5 }), state).hash).not.toBe(dark);
    expect(plan(at({ stage: 'canary', percent: 25 }), state).hash).not.toBe(plan(at({ stage: 'canary', percent: 5 }), state).hash);
    // A new value at dark changes nothing served beside it: the hash holds the value itself.
    const v2 = plan(at({ stage: 'dark' }, { v: 2 }), state);
    expect(v2.flags[0]).toMatchObject({ valueChanged: true });
    expect('servingBefore' in v2.flags[0]).toBe(false);
    expect(plan(at({ stage: 'dark' }, { v: 3 }), state).hash).not.toBe(v2.hash);
    // What rollout recorded is part of the plan (drift is read from it).
    const recorded = (value: JsonValue) => plan(env([flag('y', 1)]), live({ y: 1 }, { y: rollout(value) })).hash;
    expect(recorded(2)).not.toBe(recorded(1));
  });

  it('sums up: blocked migrations, refused moves, and no-op only with nothing pending', () => {
    const desired = env([flag('x', 1)]);
    const state = live({ x: 1 }, { x: rollout(1) });
    const pending = { version: '1', name: 'init', file: 'migrations/0001_init.sql', checksum: 'aaa', transactional: true, findings: [] };
    expect(buildPlan({ desired, live: state, migrations: noMigrations, commit: null })).toMatchObject({ noop: true, summary: { blocked: false, migrations: 0 } });
    expect(buildPlan({ desired, live: state, migrations: { appliedCount: 0, pending: [pending], blockers: [] }, commit: null })).toMatchObject({ noop: false, summary: { migrations: 1 } });
    expect(buildPlan({ desired, live: state, migrations: { appliedCount: 0, pending: [], blockers: ['x.sql:1:1: bad'] }, commit: null }).summary.blocked).toBe(true);
    // Two moves allowed (a rollback and a kill switch), none refused.
    const now = new Date('2026-11-25T12:00:00Z');
    const moves = buildPlan({
      desired: env([flag('r', true, { offValue: false, rollout: { stage: 'dark' } }), flag('k', { enabled: true }, { killSwitch: true })]),
      live: live({ r: true, k: { enabled: false } }, { r: rollout(true, { stage: 'canary', percent: 50, stageSince: now }), k: rollout({ enabled: false }) }),
      migrations: noMigrations,
      commit: null,
      gates: { now },
    });
    expect(moves.flags.map((c) => c.gate?.allowed)).toEqual([true, true]);
    expect(moves.summary.refused).toBe(0);
  });

  it('gates only moves: a plain value change, a removal and a hold carry no verdict; a staged kill switch moved forward is gated as any flag', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const tripped = definition({ enabled: false }, { killSwitch: true, override: { enabled: true } });
    const p = buildPlan({
      desired: env([
        flag('plain', 2),
        flag('safe', { enabled: false }, { killSwitch: true }),
        flag('staged', { enabled: false }, { killSwitch: true, offValue: { enabled: true }, rollout: { stage: 'canary', percent: 25 } }),
      ]),
      live: live(
        { plain: 1, gone: 1, safe: { enabled: true }, staged: { enabled: true } },
        {
          plain: rollout(1),
          gone: rollout(1),
          safe: rollout({ enabled: true }, { recordedKind: 'break-glass', ledgerId: 7, definition: tripped }),
          staged: rollout({ enabled: true }, { stage: 'canary', percent: 5, stageSince: now, definition: definition({ enabled: false }, { killSwitch: true, offValue: { enabled: true } }) }),
        },
      ),
      migrations: noMigrations,
      commit: null,
      gates: { now },
    });
    const byKey = new Map(p.flags.map((c) => [c.key, c]));
    expect(byKey.get('plain')?.gate).toBeUndefined();
    expect(byKey.get('gone')?.gate).toBeUndefined();
    expect(byKey.get('safe')).toMatchObject({ action: 'hold' });
    expect(byKey.get('safe')?.gate).toBeUndefined();
    expect(byKey.get('safe')?.impact).toBeUndefined();
    expect(byKey.get('staged')?.gate).toMatchObject({ kind: 'forward', allowed: false });
  });

  it('lifts a break-glass hold once the value table was edited by hand, and names the ledger entry only where it applies', () => {
    const desired = env([flag('global.safe_mode', { enabled: false }, { killSwitch: true })]);
    const tripped = definition({ enabled: false }, { killSwitch: true, override: { enabled: true } });
    const edited = live({ 'global.safe_mode': { enabled: 'maybe' } }, { 'global.safe_mode': rollout({ enabled: true }, { recordedKind: 'break-glass', ledgerId: 7, definition: tripped }) });
    const [change] = plan(desired, edited).flags;
    expect(change.action).toBe('change');
    expect(change.breakGlass).toBeUndefined();
    const reconciled = plan(env([flag('global.safe_mode', { enabled: true }, { killSwitch: true })]), live({ 'global.safe_mode': { enabled: true } }, { 'global.safe_mode': rollout({ enabled: true }, { recordedKind: 'break-glass', ledgerId: 7, definition: tripped }) }));
    expect(reconciled.flags[0]).toMatchObject({ action: 'reconcile', breakGlass: { ledgerId: 7 } });
    expect(reconciled.flags[0].autoRollback).toBeUndefined();
  });

  it('holds a flag an exit criterion moved back while Git asks for more, and reconciles once Git says where it is', () => {
    const at = (percent: number) => env([flag('f', true, { offValue: false, rollout: { stage: 'canary', percent } })]);
    const movedBack = (extra: Partial<LiveRollout> = {}) =>
      live({ f: false }, { f: rollout(false, { stage: 'canary', percent: 5, recordedKind: 'auto-rollback', ledgerId: 9, definition: definition(true, { offValue: false }), ...extra }) });
    // Git still says 25 %: held, naming the rollback.
    const held = plan(at(25), movedBack()).flags[0];
    expect(held).toMatchObject({ action: 'hold', autoRollback: { ledgerId: 9 } });
    expect(held.breakGlass).toBeUndefined();
    // Git says 5 %, where the rollback left it: recorded, so the next move is gated as usual.
    const reconciled = plan(at(5), movedBack()).flags[0];
    expect(reconciled).toMatchObject({ action: 'reconcile', valueChanged: false, stageChanged: false, autoRollback: { ledgerId: 9 } });
    expect(reconciled.breakGlass).toBeUndefined();
    // Git lower than where it is: a normal rollback, no hold.
    expect(plan(env([flag('f', true, { offValue: false, rollout: { stage: 'dark' } })]), movedBack()).flags[0]).toMatchObject({ action: 'change' });
    // Another stage at the same percent is not where it is.
    expect(plan(env([flag('f', true, { offValue: false, rollout: { stage: 'dark' } })]), movedBack({ stage: 'canary', percent: 5 })).flags[0].action).toBe('change');
    // The value table edited by hand since: no longer held.
    const edited = live({ f: true }, { f: rollout(false, { stage: 'canary', percent: 5, recordedKind: 'auto-rollback', ledgerId: 9, definition: definition(true, { offValue: false }) }) });
    expect(plan(at(25), edited).flags[0].action).toBe('change');
  });

  it('gates a forward move on its dependencies: on, not passed, and on live long enough', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const since = new Date('2026-11-25T10:00:00Z');
    const ui = (dependsOn: string[], soaks?: Record<string, string>) =>
      flag('ui', true, { offValue: false, dependsOn, ...(soaks ? { dependencySoaks: new Map(Object.entries(soaks)) } : {}), rollout: { stage: 'shadow' } });
    const gate = (flags: FlagSpec[], state: LiveState, dependenciesOnSince?: Map<string, Date>) =>
      buildPlan({ desired: env(flags), live: state, migrations: noMigrations, commit: null, gates: { now, ...(dependenciesOnSince ? { dependenciesOnSince } : {}) } }).flags.find((c) => c.key === 'ui')?.gate;
    const uiLive = (extra: Record<string, LiveRollout> = {}, flags: Record<string, JsonValue> = {}) =>
      live({ ui: false, ...flags }, { ui: rollout(false, { stage: 'dark', stageSince: new Date('2026-11-01T00:00:00Z'), definition: definition(true, { offValue: false }) }), ...extra });
    const reasons = (g: ReturnType<typeof gate>) => g?.reasons.join('\n') ?? '';

    // A plain dependency is on by its value (it has no stage): the move goes ahead (it was refused as "off").
    const plainOn = gate([ui(['index']), flag('index', true)], uiLive({ index: rollout(true) }, { index: true }));
    expect(plainOn, reasons(plainOn)).toMatchObject({ allowed: true });
    const plainOff = gate([ui(['index']), flag('index', false)], uiLive({ index: rollout(false) }, { index: false }));
    expect(plainOff?.allowed).toBe(false);
    expect(reasons(plainOff)).toContain('ui depends on index, which is off');
    expect(reasons(gate([ui(['missing'])], uiLive()))).toContain('ui depends on missing, which is off');
    // A staged dependency behind the move refuses it.
    const behind = gate([ui(['index']), flag('index', true, { offValue: false, rollout: { stage: 'dark' } })], uiLive({ index: rollout(false, { stage: 'dark', definition: definition(true, { offValue: false }) }) }, { index: false }));
    expect(behind?.allowed).toBe(false);
    expect(reasons(behind)).toMatch(/index/);

    // `for`: counted from when it went on live (readPlan reads it from the ledger).
    const soaked = [ui(['index'], { index: '1h' }), flag('index', true)];
    const onLive = uiLive({ index: rollout(true) }, { index: true });
    expect(gate(soaked, onLive, new Map([['index', since]]))?.allowed).toBe(true);
    const short = gate([ui(['index'], { index: '3h' }), flag('index', true)], onLive, new Map([['index', since]]));
    expect(short?.allowed).toBe(false);
    expect(reasons(short)).toContain('index has been on since 2026-11-25T10:00Z: 2 h of the 3 h ui waits for; 1 h left before ui may move.');
    // Not on live yet (this same plan turns it on, or the ledger has no move of it): on for nothing yet.
    expect(gate(soaked, uiLive({ index: rollout(false, { stage: 'off', definition: definition(true, { offValue: false }) }) }, { index: false }), new Map([['index', since]]))?.allowed).toBe(false);
    expect(gate(soaked, onLive)?.allowed).toBe(false);
    // Without a rollout row, a dependency in the value table is live.
    expect(gate(soaked, uiLive({}, { index: true }), new Map([['index', since]]))?.allowed).toBe(true);
  });

  it('gates a forward move on the position of a readable upstream; an unreadable one refuses forward moves only', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const desired = env([flag('f', true, { offValue: false, rollout: { stage: 'shadow' } }), flag('r', true, { offValue: false, rollout: { stage: 'dark' } })]);
    const state = live({ f: false, r: false }, {
      f: rollout(false, { stage: 'dark', stageSince: new Date('2026-11-01T00:00:00Z'), definition: definition(true, { offValue: false }) }),
      r: rollout(false, { stage: 'canary', percent: 5, stageSince: new Date('2026-11-01T00:00:00Z'), definition: definition(true, { offValue: false }) }),
    });
    const gates = (upstream: NonNullable<NonNullable<Parameters<typeof buildPlan>[0]['gates']>['upstream']>) =>
      new Map(buildPlan({ desired, live: state, migrations: noMigrations, commit: null, gates: { now, upstream } }).flags.map((c) => [c.key, c.gate]));
    const ahead = gates({ environment: 'staging', positions: new Map([['f', { position: { stage: 'canary', percent: 50 }, enteredAt: new Date('2026-11-01T00:00:00Z') }]]), checksPassing: true });
    expect(ahead.get('f')?.allowed).toBe(true);
    const behind = gates({ environment: 'staging', positions: new Map([['f', { position: { stage: 'dark', percent: null }, enteredAt: null }]]), checksPassing: true });
    expect(behind.get('f')?.allowed).toBe(false);
    expect(behind.get('f')?.reasons.join(' ')).toContain('staging');
    const unreadable = gates({ environment: 'staging', positions: new Map(), checksPassing: false, unreadable: 'connect ECONNREFUSED' });
    const reason = 'staging (the upstream) could not be read: connect ECONNREFUSED. Its position, soak and checks are unknown, so forward moves wait until it can be read; rollbacks and kill switches are not affected.';
    expect(unreadable.get('f')).toMatchObject({ allowed: false, kind: 'forward' });
    expect(unreadable.get('f')?.reasons[0]).toBe(reason);
    expect(unreadable.get('f')?.gates[0]).toEqual({ gate: 'upstream', passed: false, reason });
    // A rollback goes through an unreadable upstream.
    expect(unreadable.get('r')).toMatchObject({ allowed: true, kind: 'rollback' });
  });

  it('a first apply adopts the file, except forward positions its upstream has not reached (--adopt)', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const desired = env([flag('f', true, { offValue: false, rollout: { stage: 'canary', percent: 25 } })]);
    const first = (gates: Omit<NonNullable<Parameters<typeof buildPlan>[0]['gates']>, 'now'>) => buildPlan({ desired, live: live({}), migrations: noMigrations, commit: null, gates: { now, ...gates } }).flags[0].gate;
    expect(first({})?.allowed).toBe(true);
    const upstream = { environment: 'staging', positions: new Map([['f', { position: { stage: 'dark' as const, percent: null }, enteredAt: null }]]), checksPassing: true };
    expect(first({ upstream })?.allowed).toBe(false);
    expect(first({ upstream, adopt: true })?.allowed).toBe(true);
    expect(first({ upstream: { ...upstream, positions: new Map([['f', { position: { stage: 'full' as const, percent: null }, enteredAt: null }]]) } })?.allowed).toBe(true);
    const unreadable = first({ upstream: { environment: 'staging', positions: new Map(), checksPassing: false, unreadable: 'connect ECONNREFUSED' } });
    expect(unreadable?.reasons.join(' ')).toContain('connect ECONNREFUSED');
  });

  it('hashes the value of a staged flag being added, and a move between stages that differ only by name', () => {
    const adding = (value: JsonValue) => plan(env([flag('x', value, { offValue: false, rollout: { stage: 'dark' } })]), live({})).hash;
    expect(adding({ v: 3 })).not.toBe(adding({ v: 2 }));
    const state = live({ x: false }, { x: rollout(false, { stage: 'dark', definition: definition(true, { offValue: false }) }) });
    const to = (stage: 'off' | 'shadow') => plan(env([flag('x', true, { offValue: false, rollout: { stage } })]), state).hash;
    expect(to('shadow')).not.toBe(to('off'));
  });

  it('gates a kill switch whose value and stage both move forward as a forward move; a staged value edit in place carries no verdict', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const ks = (value: JsonValue, percent: number) => flag('k', value, { killSwitch: true, offValue: { enabled: false }, rollout: { stage: 'canary', percent } });
    const state = live({ k: { enabled: false } }, { k: rollout({ enabled: false }, { stage: 'canary', percent: 5, stageSince: now, definition: definition({ enabled: true }, { killSwitch: true, offValue: { enabled: false } }) }) });
    const gate = (spec: FlagSpec) => buildPlan({ desired: env([spec]), live: state, migrations: noMigrations, commit: null, gates: { now } }).flags[0].gate;
    expect(gate(ks({ enabled: true, v: 2 }, 25))).toMatchObject({ kind: 'forward', allowed: false });
    expect(gate(ks({ enabled: true, v: 2 }, 1))).toMatchObject({ kind: 'kill-switch', allowed: true });
    expect(gate(ks({ enabled: true, v: 2 }, 5))).toMatchObject({ kind: 'kill-switch', allowed: true });
    expect(gate(flag('k', { enabled: true, v: 2 }, { offValue: { enabled: false }, rollout: { stage: 'canary', percent: 5 } }))).toBeUndefined();
  });

  it('an auto-rollback left at dark: Git saying off is a rollback, not the reconcile of where it is', () => {
    const state = live({ f: false }, { f: rollout(false, { stage: 'dark', recordedKind: 'auto-rollback', ledgerId: 9, definition: definition(true, { offValue: false }) }) });
    expect(plan(env([flag('f', true, { offValue: false, rollout: { stage: 'off' } })]), state).flags[0].action).toBe('change');
    expect(plan(env([flag('f', true, { offValue: false, rollout: { stage: 'dark' } })]), state).flags[0].action).toBe('reconcile');
  });
});
