/**
 * rollout kill on a fleet: the kill switch is set on every target at once (or one wave's), each
 * with its own ledger entry, never held back by waves or budgets; an unreachable target does not
 * stop the others and is named; a flag that is not a kill switch is refused before any target.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const fleetFile = (targets: string[]): string =>
  `version: 1\ntarget_url_env: ${URL_TEMPLATE}\ntargets: [${targets.map((t) => `{ name: ${t} }`).join(', ')}]\nwaves: [{ name: canary, targets: [t01] }]\nflags:\n  feature.x: { value: true }\n  global.safe_mode: { value: { enabled: false }, kill_switch: true }\n`;

describe.skipIf(!SERVER)('rollout kill on a fleet', () => {
  let fleet: TestFleet;
  const env = () => ({ ...fleet.processEnv, TENANT_GONE_URL: 'postgres://rollout:gonepassword9@127.0.0.1:1/gone' });
  const run = (args: string[]) => cli(['--root', fleet.root, ...args], env());
  const safeMode = async (target: string): Promise<unknown> => (await fleet.query<{ value: unknown }>(target, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'"))[0]?.value;
  const breakGlassEntries = async (target: string): Promise<number> =>
    (await fleet.query<{ n: number }>(target, "SELECT count(*)::int AS n FROM rollout.ledger WHERE kind = 'break-glass'"))[0].n;

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 3);
    await writeRepository(fleet.root, { 'environments/tenants.yaml': fleetFile(['t01', 't02', 't03']) });
    const applied = await run(['apply', '--env', 'tenants']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    // A target is added that cannot be reached (its server is down).
    await writeFile(join(fleet.root, 'environments/tenants.yaml'), fleetFile(['t01', 't02', 't03', 'gone']));
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('a flag that is not a kill switch is refused before any target is touched', async () => {
    const refused = await run(['kill', '--env', 'tenants', '--flag', 'feature.x', '--reason', 'drill']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('flag feature.x is not a kill switch, so break-glass may not change it');
    for (const target of ['t01', 't02', 't03']) expect(await breakGlassEntries(target)).toBe(0);
  }, 60_000);

  it('--wave sets only that wave\'s targets', async () => {
    const canary = await run(['kill', '--env', 'tenants', '--wave', 'canary', '--flag', 'global.safe_mode', '--reason', 'drill on the canary']);
    expect(canary.code, canary.stderr).toBe(0);
    expect(canary.stdout).toContain('tenants: global.safe_mode = {"enabled":true} by break-glass on 1 target(s), 0 already so, 0 failed (of 1).');
    expect(await safeMode('t01')).toEqual({ enabled: true });
    expect(await safeMode('t02')).toEqual({ enabled: false });
  }, 60_000);

  it('every target at once: each reachable one set with its ledger entry, the unreachable one named, exit 1; a rerun writes nothing more', async () => {
    const killed = await run(['kill', '--env', 'tenants', '--flag', 'global.safe_mode', '--reason', 'burn rate 4.2']);
    expect(killed.code, killed.stderr).toBe(1);
    expect(killed.stdout).toContain('canary/t01: already {"enabled":true}; nothing written');
    expect(killed.stdout).toMatch(/rest\/t02: set \(was \{"enabled":false\}\), ledger entry #\d+/);
    expect(killed.stdout).toMatch(/rest\/gone: FAILED — Could not connect to postgres:\/\/rollout:\*\*\*@127\.0\.0\.1:1\/gone/);
    expect(killed.stdout).toContain('tenants: global.safe_mode = {"enabled":true} by break-glass on 2 target(s), 1 already so, 1 failed (of 4).');
    expect(killed.stdout).toContain('Retry the failed ones alone: rollout kill --env tenants/gone --flag global.safe_mode');
    expect(killed.stdout + killed.stderr).not.toContain('gonepassword9');
    for (const target of ['t01', 't02', 't03']) {
      expect(await safeMode(target), target).toEqual({ enabled: true });
      expect(await breakGlassEntries(target), target).toBe(1);
    }
    const again = await run(['kill', '--env', 'tenants', '--flag', 'global.safe_mode', '--reason', 'burn rate 4.2']);
    expect(again.stdout).toContain('by break-glass on 0 target(s), 3 already so, 1 failed (of 4).');
    for (const target of ['t01', 't02', 't03']) expect(await breakGlassEntries(target), target).toBe(1);
  }, 60_000);
});
