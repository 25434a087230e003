/**
 * A fleet as the upstream of a single database (staging's tenants promote to production): a
 * flag is only as far along as the least advanced target has it, so production may not move
 * it forward until every target of the fleet holds it there, and promotion carries only what
 * every target holds.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../actions/engine/plan/types.ts';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const LATER = { ROLLOUT_NOW: '2099-01-01T00:00:00Z' };

describe.skipIf(!SERVER)('a fleet upstream of one database', () => {
  let fleet: TestFleet;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, PRODUCTION_URL: fleet.processEnv.TENANT_T03_URL, ...env });
  const production = (stage: string): string => `version: 1\ndatabase: { url_env: PRODUCTION_URL }\nflags:\n  feature.x: { value: true, off_value: false, rollout: { ${stage} } }\n`;

  beforeAll(async () => {
    // t03 is production's database; t01 and t02 are the staging fleet.
    fleet = await serverFleet(SERVER!, 3);
    await writeRepository(fleet.root, {
      'environments/staging.yaml': `version: 1\ntarget_url_env: ${URL_TEMPLATE}\ntargets: [{ name: t01 }, { name: t02 }]\nwaves: [{ name: canary, targets: [t01] }]\npromotes_to: production\nflags:\n  feature.x: { value: true, off_value: false, rollout: { stage: canary, percent: 5 } }\n`,
      'environments/production.yaml': production('stage: off'),
    });
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  const ok = async (args: string[]): Promise<void> => {
    const result = await run(args);
    expect(result.code, `${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
  };

  it('refuses production\'s forward move while one target of the fleet lags, allows it once all hold the rung', async () => {
    await ok(['apply', '--env', 'production']);
    await ok(['apply', '--env', 'staging', '--wave', 'canary']);
    // Status shows each target's position on the ladder: the canary target moved, the other not yet.
    const status = await run(['status', '--env', 'staging']);
    expect(status.stdout).toMatch(/✓ t01: 1\/1 flags in sync; feature\.x canary 5%; last #1 apply/);
    expect(status.stdout).toContain('≠ t02: 0/1 flags in sync; feature.x — → canary 5%; nothing applied yet');
    await writeFile(join(fleet.root, 'environments/production.yaml'), production('stage: dark'));

    const gateOf = async (): Promise<{ allowed: boolean; reasons: string[] }> => {
      const plan = JSON.parse((await run(['plan', '--env', 'production', '--format', 'json'], LATER)).stdout) as Plan;
      const gate = plan.flags.find((c) => c.key === 'feature.x')!.gate!;
      return { allowed: gate.allowed, reasons: gate.gates.filter((g) => g.gate === 'upstream' || !g.passed).map((g) => g.reason) };
    };
    const lagging = await gateOf();
    expect(lagging.allowed).toBe(false);
    expect(lagging.reasons.join(' ')).toContain('staging');
    // Promotion carries only what every target holds: t02 has not got the flag yet.
    const early = await run(['promote', '--from', 'staging', '--to', 'production'], LATER);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toContain('Nothing to promote');
    expect(early.stdout).toContain('feature.x is at off in staging');

    await ok(['apply', '--env', 'staging']);
    const caughtUp = await gateOf();
    expect(caughtUp, JSON.stringify(caughtUp)).toMatchObject({ allowed: true });
    // Production takes the move; with every target at canary 5 %, promotion climbs one more rung towards it.
    const moved = await run(['apply', '--env', 'production'], { ...LATER, ROLLOUT_TEST_CLOCK: '1' });
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    const promoted = await run(['promote', '--from', 'staging', '--to', 'production'], LATER);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain('PR title: promote staging → production: feature.x dark → shadow');
  }, 180_000);
});
