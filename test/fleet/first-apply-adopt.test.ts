/**
 * Issue 18 for a fleet: each target's first apply is a first apply. A fleet downstream of
 * staging refuses, per target, a canary position staging has not reached; --adopt adopts it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;

describe.skipIf(!SERVER)('the first apply of a fleet downstream of staging', () => {
  let fleet: TestFleet;
  const run = (args: string[]) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, STAGING_URL: fleet.processEnv.TENANT_T03_URL });
  const flags = (stage: string): string => `flags:\n  feature.x: { value: true, off_value: false, rollout: { ${stage} } }\n`;

  beforeAll(async () => {
    // t03 is staging's database; t01 and t02 are the production fleet.
    fleet = await serverFleet(SERVER!, 3);
    await writeRepository(fleet.root, {
      'environments/staging.yaml': `version: 1\ndatabase: { url_env: STAGING_URL }\npromotes_to: production\n${flags('stage: off')}`,
      'environments/production.yaml': `version: 1\ntarget_url_env: ${URL_TEMPLATE}\ntargets: [{ name: t01 }, { name: t02 }]\n${flags('stage: canary, percent: 5')}`,
    });
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('refuses every target without --adopt, and applies them all with it', async () => {
    expect((await run(['apply', '--env', 'staging'])).code).toBe(0);
    const refused = await run(['apply', '--env', 'production']);
    expect(refused.code).toBe(1);
    expect(`${refused.stdout}${refused.stderr}`).toContain('feature.x would start at canary 5%, but staging (its upstream) is at off');
    expect(`${refused.stdout}${refused.stderr}`).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);

    const plan = await run(['plan', '--env', 'production', '--adopt']);
    expect(plan.code, plan.stdout).toBe(0);
    const adopted = await run(['apply', '--env', 'production', '--adopt']);
    expect(adopted.code, `${adopted.stdout}${adopted.stderr}`).toBe(0);
    expect(adopted.stdout).toMatch(/t01: applied/);
    expect(adopted.stdout).toMatch(/t02: applied/);
  }, 180_000);
});
