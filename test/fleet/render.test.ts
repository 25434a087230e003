/**
 * A fleet plan whose targets have nothing to apply but one is blocked (an applied migration
 * edited since) says so, and shows that target's blocker, instead of "no changes".
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATION_SETTINGS, type Environment } from '../../actions/engine/config/model.ts';
import { buildPlan } from '../../actions/engine/plan/planner.ts';
import type { MigrationPlanPart } from '../../actions/engine/plan/types.ts';
import type { LiveState } from '../../actions/engine/store/live-state.ts';
import type { FleetPlan, TargetPlan } from '../../actions/engine/fleet/plan.ts';
import { fleetSummaryLine, renderFleetPlan } from '../../actions/engine/fleet/render.ts';

const env: Environment = {
  name: 'tenants',
  file: 'environments/tenants.yaml',
  database: { kind: 'url', urlEnv: 'X' },
  migrations: DEFAULT_MIGRATION_SETTINGS,
  flags: new Map(),
  checks: [],
  monitors: [],
};
const live: LiveState = { flagTable: 'rollout.flags', flagTableExists: true, flags: new Map(), rollouts: new Map() };
const BLOCKER = 'migrations/1_m1.sql:1:1: migrations/1_m1.sql was applied on 2026-11-01T00:00:00.000Z but its content has changed since';

function fleet(migrations: Record<string, MigrationPlanPart>): FleetPlan {
  const targets: TargetPlan[] = Object.entries(migrations).map(([target, part]) => ({ target, wave: 'all', labels: {}, plan: buildPlan({ desired: env, live, migrations: part, commit: null }) }));
  const groups = new Map<string, { hash: string; summary: string; targets: string[] }>();
  for (const t of targets) {
    const group = groups.get(t.plan!.hash) ?? { hash: t.plan!.hash, summary: t.plan!.migrations.blockers.length ? 'blocked' : 'no changes', targets: [] };
    group.targets.push(t.target);
    groups.set(t.plan!.hash, group);
  }
  const plans = targets.map((t) => t.plan!);
  return {
    format: 1, kind: 'fleet', environment: 'tenants', file: env.file, commit: null, hash: 'f'.repeat(64),
    waves: [{ name: 'all', targets: targets.map((t) => t.target) }], groups: [...groups.values()], targets,
    summary: { targets: targets.length, changing: 0, unchanged: targets.length, unreachable: 0, failed: 0, withMigrations: 0, blocked: plans.filter((p) => p.summary.blocked).length, refused: 0 },
    noop: plans.every((p) => p.noop),
  };
}

describe('fleet plan rendering', () => {
  it('does not call a fleet with a blocked target unchanged, and shows the blocker', () => {
    const clean = { appliedCount: 1, pending: [], blockers: [] };
    const plan = fleet({ acme: clean, globex: { ...clean, blockers: [BLOCKER] } });
    expect(plan.noop).toBe(true);
    expect(fleetSummaryLine(plan)).not.toContain('no changes, live state matches Git');
    expect(renderFleetPlan(plan, 'text')).toContain(`  │ ✗ blocked: ${BLOCKER}`);
    expect(renderFleetPlan(plan, 'markdown')).toContain(`> Apply is blocked: ${BLOCKER}`);
    expect(fleetSummaryLine(fleet({ acme: clean, globex: clean }))).toBe('2 targets: no changes, live state matches Git.');
  });
});
