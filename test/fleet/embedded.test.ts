/**
 * The embedded database as a fleet of data directories, for local runs: plan, apply in waves
 * (a check failing in one target stops the rollout and reverts that target's flags), status,
 * one target on its own as NAME/TARGET, and a rerun after the fix converging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import type { FleetApplyReport } from '../../actions/engine/fleet/apply.ts';
import { fleetTarget } from '../../actions/engine/fleet/selection.ts';
import { cli } from '../support/cli.ts';
import { embeddedFleet, writeRepository, type TestFleet } from './support.ts';

describe('an embedded fleet of data directories', () => {
  let fleet: TestFleet & { dirs: string[] };
  const run = (args: string[]) => cli(['--root', fleet.root, ...args]);
  const sql = async (target: string, text: string): Promise<unknown[]> => {
    const { environment } = loadEnvironment(fleet.root, 'local');
    const single = await fleetTarget(environment, target, { root: fleet.root, processEnv: {} });
    const db = await openDatabase(single, { root: fleet.root, processEnv: {} });
    try {
      const client = await db.connect();
      return (await client.query<Record<string, unknown>>(text)).rows;
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    fleet = await embeddedFleet(3);
    await writeRepository(fleet.root, {
      'environments/local.yaml': `version: 1
targets:
${fleet.names.map((n, i) => `  - { name: ${n}, embedded: ${fleet.dirs[i]} }`).join('\n')}
waves:
  - { name: canary, targets: [t01] }
flags:
  feature.x: { value: true }
checks:
  - name: no poisoned rows
    sql: SELECT count(*)::int FROM public.poison
    expect: { value: 0 }
`,
      'migrations/001_poison.sql': 'CREATE TABLE IF NOT EXISTS public.poison (id bigint PRIMARY KEY);\n',
    });
  }, 120_000);
  afterAll(() => fleet?.dispose());

  it('plans the fleet as one group', async () => {
    const { code, stdout } = await run(['plan', '--env', 'local']);
    expect(code).toBe(0);
    expect(stdout).toContain('Fleet plan for local: 3 targets in 2 waves');
    expect(stdout).toContain('3 targets: 1 migration to apply, 1 flag to add.');
    expect(stdout).toMatch(/Waves:\n {2}canary: t01\n {2}rest: t02, t03/);
  }, 180_000);

  it('stops when a target of the second wave fails its check, reverting its flags; the fix and a rerun converge', async () => {
    await sql('t03', 'CREATE TABLE public.poison (id bigint PRIMARY KEY); INSERT INTO public.poison VALUES (1)');
    const failed = await run(['apply', '--env', 'local', '--concurrency', '1', '--format', 'json']);
    expect(failed.code).toBe(1);
    const report = JSON.parse(failed.stdout) as FleetApplyReport;
    expect(report.targets.map((t) => [t.target, t.outcome])).toEqual([['t01', 'applied'], ['t02', 'applied'], ['t03', 'reverted']]);
    expect(report.stopped).toEqual({ wave: 'rest', failures: 1, targets: 2 });
    expect(await sql('t03', "SELECT key FROM rollout.flags WHERE key = 'feature.x'")).toEqual([]);
    expect(await sql('t02', "SELECT value FROM rollout.flags WHERE key = 'feature.x'")).toEqual([{ value: true }]);

    const status = await run(['status', '--env', 'local']);
    expect(status.stdout).toContain('↩ t03: 0/1 flags in sync; last #2 revert reverted');

    // One target on its own, as a single-database environment.
    const verify = await run(['verify', '--env', 'local/t03']);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('no poisoned rows');

    await sql('t03', 'DELETE FROM public.poison');
    const rerun = await run(['apply', '--env', 'local', '--format', 'json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((JSON.parse(rerun.stdout) as FleetApplyReport).targets.map((t) => [t.target, t.outcome])).toEqual([['t01', 'unchanged'], ['t02', 'unchanged'], ['t03', 'applied']]);
  }, 240_000);
});
