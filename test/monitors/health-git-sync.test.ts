/**
 * Issue 13, defect 8, in the health action's report (pure: a plan built from a live state
 * break-glass set): no "None: live state matches Git" while a kill switch is held.
 */
import { describe, expect, it } from 'vitest';
import type { FlagSpec } from '../../actions/engine/config/model.ts';
import { testEnvironment } from '../support/databases.ts';
import { buildPlan } from '../../actions/engine/plan/planner.ts';
import type { LiveState } from '../../actions/engine/store/live-state.ts';
import { gitSync } from '../../actions/engine/render/git-sync.ts';
import { healthMarkdown, healthSummaryMarkdown } from '../../actions/github/health.ts';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';

const env = testEnvironment(
  { kind: 'url', urlEnv: 'PRODUCTION_DATABASE_URL' },
  { name: 'production', file: 'environments/production.yaml', flags: new Map([['shop.safe_mode', { key: 'shop.safe_mode', value: { enabled: false }, killSwitch: true, dependsOn: [] } satisfies FlagSpec]]) },
);

const live = (value: boolean, kind: string): LiveState => ({
  flagTable: 'rollout.flags',
  flagTableExists: true,
  flags: new Map([['shop.safe_mode', { value: { enabled: value }, stored: { value: { enabled: value }, text: JSON.stringify({ enabled: value }) } }]]),
  rollouts: new Map([['shop.safe_mode', { stage: null, percent: null, stageSince: null, recordedValue: { enabled: value }, recordedKind: kind, ledgerId: 7 }]]),
});
const healthy: HealthReport = { environment: 'production', status: 'healthy', results: [], summary: { healthy: 0, breach: 0, unknown: 0 } };
const planOf = (state: LiveState) => buildPlan({ desired: env, live: state, migrations: { appliedCount: 0, pending: [], blockers: [] }, commit: null });

describe('the health report beside a hold', () => {
  it('says live matches Git only when it does', () => {
    const clean = planOf(live(false, 'apply'));
    expect(gitSync(clean).inSync).toBe(true);
    expect(healthSummaryMarkdown(healthy, clean, false)).toContain('None: live state matches Git');
  });

  it('names the held kill switch, the ledger entry and the reconcile PR instead', () => {
    const held = planOf(live(true, 'break-glass'));
    const sync = gitSync(held);
    expect(sync).toMatchObject({ inSync: false, summary: '1 flag held by break-glass' });
    for (const markdown of [healthSummaryMarkdown(healthy, held, false), healthMarkdown(healthy, held, false)]) {
      expect(markdown).not.toContain('matches Git');
      expect(markdown).toContain('None, but live state differs from Git on purpose: 1 flag held by break-glass.');
      expect(markdown).toContain('shop.safe_mode is held at {"enabled":true} by break-glass (ledger #7)');
      expect(markdown).toContain('branch rollout/break-glass-production-shop.safe_mode');
    }
  });
});
