/**
 * A fleet's first apply past its upstream (issue 18 on a fleet): every target's first apply is
 * its own, so a canary position staging has not reached is refused on each target, and
 * `--adopt` on the fleet's plan and apply reaches every target's gates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetApplyReport } from '../../actions/engine/fleet/apply.ts';
import type { FleetPlan } from '../../actions/engine/fleet/plan.ts';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const flag = (rollout: string): string => `flags:\n  checkout.new_flow: { value: true, off_value: false, rollout: { ${rollout} } }\n`;

describe.skipIf(!SERVER)('--adopt on a fleet whose first apply is past its upstream', () => {
  let fleet: TestFleet;
  // t03 is staging (one database); t01 and t02 are the tenants fleet it promotes to.
  const run = (args: string[]) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, STAGING_URL: fleet.processEnv.TENANT_T03_URL });

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 3);
    await writeRepository(fleet.root, {
      'environments/staging.yaml': `version: 1\ndatabase: { url_env: STAGING_URL }\npromotes_to: tenants\n${flag('stage: dark')}`,
      'environments/tenants.yaml': `version: 1\ntarget_url_env: ${URL_TEMPLATE}\ntargets: [{ name: t01 }, { name: t02 }]\n${flag('stage: canary, percent: 5')}`,
    });
    const staging = await run(['apply', '--env', 'staging']);
    expect(staging.code, staging.stderr).toBe(0);
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('refuses on every target without --adopt, adopts on every target with it', async () => {
    const refused = await run(['apply', '--env', 'tenants', '--format', 'json']);
    expect(refused.code).toBe(1);
    const report = JSON.parse(refused.stdout) as FleetApplyReport;
    // No waves: one wave, whose budget (no failures) the first refused target spends.
    expect(report.targets.some((t) => t.outcome === 'failed' && t.reason?.includes('rollout does not adopt a forward position silently'))).toBe(true);
    expect(report.targets.every((t) => t.outcome === 'failed' || t.outcome === 'untouched')).toBe(true);

    const preview = await run(['plan', '--env', 'tenants', '--adopt', '--format', 'json']);
    expect(preview.code, preview.stdout).toBe(0);
    expect((JSON.parse(preview.stdout) as FleetPlan).summary).toMatchObject({ targets: 2, refused: 0 });

    const adopted = await run(['apply', '--env', 'tenants', '--adopt', '--format', 'json']);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect((JSON.parse(adopted.stdout) as FleetApplyReport).targets.map((t) => [t.target, t.outcome])).toEqual([
      ['t01', 'applied'],
      ['t02', 'applied'],
    ]);
    for (const target of ['t01', 't02']) {
      expect(await fleet.query(target, "SELECT stage, percent::int AS percent FROM rollout.flag_rollouts WHERE key = 'checkout.new_flow'")).toEqual([{ stage: 'canary', percent: 5 }]);
    }
  }, 120_000);
});
