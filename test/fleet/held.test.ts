/**
 * A kill switch set by break-glass on one target of a fleet: the fleet apply keeps it (as the
 * single-database apply does) and its report says so for that target, instead of a bare
 * "unchanged" that would claim the target matches Git. And the fleet apply, like one
 * database's, refuses a moved clock outside a test run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetApplyReport } from '../../actions/engine/fleet/apply.ts';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;

describe.skipIf(!SERVER)('a fleet target holding a kill switch set by break-glass', () => {
  let fleet: TestFleet;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, ...env });

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, 2);
    await writeRepository(fleet.root, {
      'environments/tenants.yaml': `version: 1\ntarget_url_env: ${URL_TEMPLATE}\ntargets: [{ name: t01 }, { name: t02 }]\nflags:\n  global.safe_mode: { value: { enabled: false }, kill_switch: true }\n`,
    });
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('apply keeps it on that target and the report names it, with the ledger entry and how to reconcile', async () => {
    const first = await run(['apply', '--env', 'tenants', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const killed = await run(['kill', '--env', 'tenants/t02', '--flag', 'global.safe_mode', '--reason', 'drill']);
    expect(killed.code, killed.stderr).toBe(0);
    const ledgerId = Number(/ledger entry #(\d+)/.exec(killed.stdout)?.[1]);

    const again = await run(['apply', '--env', 'tenants', '--format', 'json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as FleetApplyReport;
    const byTarget = new Map(report.targets.map((t) => [t.target, t]));
    expect(byTarget.get('t01')).toMatchObject({ outcome: 'unchanged' });
    expect(byTarget.get('t01')?.held).toBeUndefined();
    expect(byTarget.get('t02')).toMatchObject({ outcome: 'unchanged', held: [{ key: 'global.safe_mode', by: 'break-glass', ledgerId }] });
    expect(await fleet.query('t02', "SELECT value FROM rollout.flags WHERE key = 'global.safe_mode'")).toEqual([{ value: { enabled: true } }]);

    const text = await run(['apply', '--env', 'tenants']);
    expect(text.stdout).toContain(`= t02: unchanged, kept global.safe_mode as break-glass set it (ledger #${ledgerId}): reconcile by PR`);
    const markdown = await run(['apply', '--env', 'tenants', '--format', 'markdown']);
    expect(markdown.stdout).toContain(`| \`t02\` | \`global.safe_mode\` | break-glass | #${ledgerId} |`);
  }, 120_000);

  it('a fleet apply refuses a moved clock (ROLLOUT_NOW) outside a test run, as one database\'s does: it would skip every soak', async () => {
    const moved = await run(['apply', '--env', 'tenants'], { ROLLOUT_NOW: '2099-01-01T00:00:00Z' });
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain('ROLLOUT_NOW is set, and apply refuses a moved clock');
    expect(moved.stdout).toBe('');
    // The plan may look ahead.
    const planned = await run(['plan', '--env', 'tenants'], { ROLLOUT_NOW: '2099-01-01T00:00:00Z' });
    expect(planned.code, planned.stderr).toBe(0);
  }, 120_000);
});
