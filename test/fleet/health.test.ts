/**
 * rollout health on a fleet, on the server: every target's monitors measured by the same runner;
 * a critical breach on one target trips that target's kill switch only; an unreachable target
 * makes the fleet unknown, never healthy; --no-act measures and changes nothing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHealth } from '../../actions/engine/fleet/health.ts';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const fleetFile = (targets: string[]): string => `version: 1
target_url_env: ${URL_TEMPLATE}
targets: [${targets.map((t) => `{ name: ${t} }`).join(', ')}]
flags:
  global.safe_mode: { value: { enabled: false }, kill_switch: true }
monitors:
  - name: queue p95 age
    sql: SELECT age FROM queue_age
    above: 300
    severity: critical
    on_breach: { kill_switch: global.safe_mode }
`;

describe.skipIf(!SERVER)('rollout health on a fleet', () => {
  let fleet: TestFleet;
  const run = (args: string[]) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, TENANT_GONE_URL: 'postgres://rollout:gonepassword9@127.0.0.1:1/gone' });
  const safeMode = async (target: string): Promise<unknown> => (await fleet.query<{ value: unknown }>(target, "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'"))[0]?.value;

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 3);
    await writeRepository(fleet.root, {
      'environments/tenants.yaml': fleetFile(['t01', 't02', 't03']),
      'migrations/001_queue.sql': 'CREATE TABLE queue_age (age numeric); INSERT INTO queue_age VALUES (12);\n',
    });
    const applied = await run(['apply', '--env', 'tenants']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('healthy when every target is', async () => {
    const healthy = await run(['health', '--env', 'tenants']);
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    expect(healthy.stdout).toContain('tenants: HEALTHY — 3 healthy, 0 breached, 0 unknown, 0 unreachable (of 3 targets)');
  }, 60_000);

  it('--no-act reports the breach of one target and changes nothing', async () => {
    await fleet.query('t02', 'UPDATE queue_age SET age = 412');
    const dry = await run(['health', '--env', 'tenants', '--no-act', '--format', 'json']);
    expect(dry.code).toBe(1);
    const health = JSON.parse(dry.stdout) as FleetHealth;
    expect(health.targets.map((t) => [t.target, t.status])).toEqual([
      ['t01', 'healthy'],
      ['t02', 'breach'],
      ['t03', 'healthy'],
    ]);
    expect(await safeMode('t02')).toEqual({ enabled: false });
  }, 60_000);

  it('a critical breach trips the kill switch of the target that breached, and only there', async () => {
    const breached = await run(['health', '--env', 'tenants']);
    expect(breached.code).toBe(1);
    expect(breached.stdout).toContain('tenants: BREACH — 2 healthy, 1 breached, 0 unknown, 0 unreachable (of 3 targets)');
    expect(breached.stdout).toContain('rest/t02: breach');
    expect(breached.stdout).toContain('healthy: t01, t03');
    expect(await safeMode('t02')).toEqual({ enabled: true });
    expect(await safeMode('t01')).toEqual({ enabled: false });
    expect(await safeMode('t03')).toEqual({ enabled: false });
    const entries = await fleet.query<{ kind: string }>('t02', "SELECT kind FROM rollout.ledger WHERE kind = 'break-glass'");
    expect(entries).toHaveLength(1);
  }, 60_000);

  it('an unreachable target makes the fleet unknown (never healthy), named, its password masked', async () => {
    await fleet.query('t02', 'UPDATE queue_age SET age = 12');
    await writeFile(join(fleet.root, 'environments/tenants.yaml'), fleetFile(['t01', 't02', 't03', 'gone']));
    const unknown = await run(['health', '--env', 'tenants', '--no-act']);
    expect(unknown.code, unknown.stdout).toBe(3);
    expect(unknown.stdout).toContain('tenants: UNKNOWN — 3 healthy, 0 breached, 0 unknown, 1 unreachable (of 4 targets)');
    expect(unknown.stdout).toContain('rest/gone: unknown');
    expect(unknown.stdout).toContain('postgres://rollout:***@127.0.0.1:1/gone');
    expect(unknown.stdout).not.toContain('gonepassword9');
  }, 60_000);
});
