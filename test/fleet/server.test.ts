/**
 * A fleet of 50 databases on the real server, created and dropped by this test: waves with a
 * canary, a target in the second wave whose check fails only there (the rollout stops at the
 * budget, later targets stay untouched, the failed target's flags are reverted), a rerun after
 * the fix converges, a stale fleet plan is refused, and a SIGKILL of the CLI in the middle of
 * a wave leaves no target torn and a rerun converges.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetApplyReport } from '../../actions/engine/fleet/apply.ts';
import type { FleetPlan } from '../../actions/engine/fleet/plan.ts';
import { cli } from '../support/cli.ts';
import { serverFleet, URL_TEMPLATE, writeRepository, type TestFleet } from './support.ts';

const SERVER = process.env.TEST_DATABASE_URL;
const CLI = fileURLToPath(new URL('../../actions/cli/index.ts', import.meta.url));
const TARGETS = 50;

const environmentFile = (generation: number, names: string[]): string => `version: 1
target_url_env: ${URL_TEMPLATE}
targets:
${names.map((n, i) => `  - { name: ${n}, labels: { tier: ${i === 0 ? 'canary' : 'standard'} } }`).join('\n')}
waves:
  - { name: canary, labels: { tier: canary }, soak: 0s }
  - { name: second, percent: 20, max_failures: 0 }
  - { name: everyone }
flags:
  feature.generation: { value: ${generation} }
  global.safe_mode: { value: { enabled: false }, kill_switch: true }
checks:
  - name: no poisoned rows
    sql: SELECT count(*)::int FROM public.poison
    expect: { value: 0 }
`;

describe.skipIf(!SERVER)('a fleet of 50 databases on the server', () => {
  let fleet: TestFleet;
  let waves: Record<string, string[]>;
  let poisoned: string;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(['--root', fleet.root, ...args], { ...fleet.processEnv, ...env });
  const hasLedger = async (target: string): Promise<boolean> => (await fleet.query<{ ok: boolean }>(target, "SELECT to_regclass('rollout.ledger') IS NOT NULL AS ok"))[0].ok;
  const generationOf = async (target: string): Promise<number | null> => {
    const rows = await fleet.query<{ value: number }>(target, "SELECT value FROM rollout.flags WHERE key = 'feature.generation'");
    return rows[0]?.value ?? null;
  };

  beforeAll(async () => {
    fleet = await serverFleet(SERVER!, TARGETS);
    await writeRepository(fleet.root, {
      'environments/tenants.yaml': environmentFile(1, fleet.names),
      'migrations/001_poison.sql': 'CREATE TABLE IF NOT EXISTS public.poison (id bigint PRIMARY KEY);\n',
      'migrations/002_items.sql': 'CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL);\n',
    });
  }, 120_000);
  afterAll(() => fleet?.dispose(), 120_000);

  it('plans every target, grouped by identical plan, in waves: a canary, 20 % of the rest, everyone else', async () => {
    const { code, stdout } = await run(['plan', '--env', 'tenants', '--format', 'json']);
    expect(code).toBe(0);
    const plan = JSON.parse(stdout) as FleetPlan;
    waves = Object.fromEntries(plan.waves.map((w) => [w.name, w.targets]));
    expect(waves.canary).toEqual(['t01']);
    expect(waves.second).toHaveLength(Math.ceil(49 * 0.2));
    expect(waves.everyone).toHaveLength(49 - waves.second.length);
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]).toMatchObject({ summary: '2 migrations to apply, 2 flags to add', targets: expect.arrayContaining(fleet.names) as string[] });
    expect(plan.summary).toMatchObject({ targets: 50, changing: 50, withMigrations: 50, unreachable: 0 });
    // The check fails in one target of the second wave only.
    poisoned = waves.second[Math.floor(waves.second.length / 2)];
    await fleet.query(poisoned, 'CREATE TABLE public.poison (id bigint PRIMARY KEY); INSERT INTO public.poison VALUES (1)');
  }, 120_000);

  it('stops at the second wave\'s budget: the canary applied, the failed target reverted, later targets untouched', async () => {
    const { code, stdout } = await run(['apply', '--env', 'tenants', '--concurrency', '4', '--format', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as FleetApplyReport;
    const outcome = new Map(report.targets.map((t) => [t.target, t]));
    expect(report.stopped).toEqual({ wave: 'second', failures: 1, targets: waves.second.length });
    expect(report.waves.map((w) => [w.name, w.state])).toEqual([['canary', 'done'], ['second', 'stopped'], ['everyone', 'untouched']]);
    expect(outcome.get('t01')?.outcome).toBe('applied');
    expect(await generationOf('t01')).toBe(1);

    const failed = outcome.get(poisoned)!;
    expect(failed).toMatchObject({ outcome: 'reverted', migrationsKept: ['migrations/001_poison.sql', 'migrations/002_items.sql'] });
    expect(failed.revert?.flags.sort()).toEqual(['feature.generation', 'global.safe_mode']);
    // Reverted as a single database is: the flags it added are gone again, the revert is in its ledger.
    expect(await generationOf(poisoned)).toBeNull();
    const ledger = await fleet.query<{ id: string; kind: string }>(poisoned, 'SELECT id, kind FROM rollout.ledger ORDER BY id');
    expect(ledger.map((e) => e.kind)).toEqual(['apply', 'revert']);
    expect(Number(ledger[1].id)).toBe(failed.revert?.ledgerId);

    // Nothing of the third wave was touched: not even rollout's schema exists there.
    for (const target of waves.everyone) {
      expect(outcome.get(target)?.outcome).toBe('untouched');
      expect(await hasLedger(target), target).toBe(false);
    }
    // In the second wave, a target either was applied (and checked) or was never started.
    for (const target of waves.second.filter((t) => t !== poisoned)) {
      const result = outcome.get(target)!;
      expect(['applied', 'untouched']).toContain(result.outcome);
      expect(await hasLedger(target)).toBe(result.outcome === 'applied');
    }
  }, 180_000);

  it('status shows the fleet per wave: the failing target, the untouched ones', async () => {
    const { code, stdout } = await run(['status', '--env', 'tenants']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Status of fleet tenants: \d+ of 50 target\(s\) in sync, 1 failing/);
    expect(stdout).toContain(`↩ ${poisoned}: 0/2 flags in sync; last #2 revert reverted`);
    expect(stdout).toContain('Wave everyone (');
    expect(stdout).toMatch(/≠ t\d\d: 0\/2 flags in sync; nothing applied yet/);
  }, 120_000);

  it('after the fix, a rerun resumes and converges; another rerun changes nothing', async () => {
    await fleet.query(poisoned, 'DELETE FROM public.poison');
    const first = await run(['apply', '--env', 'tenants', '--concurrency', '8', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as FleetApplyReport;
    expect(report.complete).toBe(true);
    const counts = (r: FleetApplyReport) => Object.fromEntries(['applied', 'unchanged'].map((o) => [o, r.targets.filter((t) => t.outcome === o).length]));
    // The canary and the second wave's applied targets were at the desired state already.
    expect(report.targets.find((t) => t.target === 't01')?.outcome).toBe('unchanged');
    expect(report.targets.find((t) => t.target === poisoned)?.outcome).toBe('applied');
    expect(counts(report).applied + counts(report).unchanged).toBe(50);
    for (const target of fleet.names) expect(await generationOf(target), target).toBe(1);

    const again = JSON.parse((await run(['apply', '--env', 'tenants', '--format', 'json'])).stdout) as FleetApplyReport;
    expect(counts(again)).toEqual({ applied: 0, unchanged: 50 });
  }, 240_000);

  it('groups a drifted target apart, and refuses a reviewed plan once any target changed', async () => {
    await writeFile(join(fleet.root, 'environments/tenants.yaml'), environmentFile(2, fleet.names));
    const reviewed = JSON.parse((await run(['plan', '--env', 'tenants', '--format', 'json'])).stdout) as FleetPlan;
    expect(reviewed.groups.map((g) => g.targets.length)).toEqual([50]);
    // Someone changes one target by hand after the review.
    await fleet.query('t33', `UPDATE rollout.flags SET value = '7' WHERE key = 'feature.generation'`);
    const markdown = (await run(['plan', '--env', 'tenants', '--format', 'markdown'])).stdout;
    expect(markdown).toContain('49 targets: 1 flag to change; 1 target: 1 flag to change, 1 drifted; drift on `feature.generation`.');
    expect(markdown).toContain('<details><summary>Every target</summary>');

    const refused = await run(['apply', '--env', 'tenants', '--plan-hash', reviewed.hash.slice(0, 16)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the reviewed plan (${reviewed.hash.slice(0, 12)}) no longer matches tenants`);
    for (const target of ['t01', 't02', 't50']) expect(await generationOf(target)).toBe(1);
  }, 180_000);

  it('SIGKILL of the CLI in the middle of a wave leaves no target torn; a rerun converges', async () => {
    await writeFile(join(fleet.root, 'migrations/003_more.sql'), 'ALTER TABLE public.items ADD COLUMN IF NOT EXISTS note text;\n');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--root', fleet.root, 'apply', '--env', 'tenants', '--concurrency', '4'], {
      env: { ...process.env, ...fleet.processEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.resume();
    let seen = 0;
    const exited = new Promise<string | number>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      seen += (chunk.match(/^ {2}everyone\//gm) ?? []).length;
      // Some of the last wave done, others in flight: kill it there.
      if (seen >= 6) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');

    // Every target is at a clean boundary: its flag at the old or the new generation, with the
    // ledger entry that says so, and migration 003 applied at most once.
    let moved = 0;
    for (const target of fleet.names) {
      const generation = await generationOf(target);
      const entries = await fleet.query<{ n: number }>(
        target,
        "SELECT count(*)::int AS n FROM rollout.ledger_changes c JOIN rollout.ledger l ON l.id = c.ledger_id WHERE c.key = 'feature.generation' AND c.new_value = '2'",
      );
      if (target === 't33') expect([7, 2]).toContain(generation);
      else expect([1, 2]).toContain(generation);
      expect(entries[0].n, target).toBe(generation === 2 ? 1 : 0);
      if (generation === 2) moved++;
    }
    expect(moved).toBeGreaterThanOrEqual(6);
    expect(moved).toBeLessThan(50);

    const rerun = await run(['apply', '--env', 'tenants', '--format', 'json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((JSON.parse(rerun.stdout) as FleetApplyReport).complete).toBe(true);
    for (const target of fleet.names) {
      expect(await generationOf(target)).toBe(2);
      const applied = await fleet.query<{ n: number }>(target, "SELECT count(*)::int AS n FROM rollout.schema_migrations WHERE version = 3 AND status = 'applied'");
      expect(applied[0].n, target).toBe(1);
    }
    const plan = JSON.parse((await run(['plan', '--env', 'tenants', '--format', 'json'])).stdout) as FleetPlan;
    expect(plan.noop).toBe(true);
  }, 300_000);
});
