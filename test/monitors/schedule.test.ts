/**
 * The health workflow's schedule follows the shortest monitor `every`: the cron init writes,
 * the gaps a cron leaves, and validate's warning (with the cron to use) when monitors outpace it.
 */
import { describe, expect, it } from 'vitest';
import { cronFor, longestGapMs, shortestCadence } from '../../actions/engine/monitors/schedule.ts';
import { DEFAULT_MONITOR_EVERY_MS } from '../../actions/engine/config/exit-criteria.ts';
import { testEnvironment } from '../support/databases.ts';
import { cli } from '../support/cli.ts';
import { temporaryRepositories } from '../support/repository.ts';

const MIN = 60_000;

describe('the cron for a cadence', () => {
  it.each([
    [15, '*/15 * * * *'], [5, '*/5 * * * *'], [1, '*/5 * * * *'], [7, '*/6 * * * *'], [45, '*/30 * * * *'],
    [60, '7 * * * *'], [90, '7 * * * *'], [300, '7 */4 * * *'], [2880, '7 3 * * *'],
  ])('every %i min → %s', (minutes, cron) => {
    expect(cronFor(minutes * MIN).cron).toBe(cron);
  });

  it('never runs slower than the cadence (nor faster than GitHub allows), and its gap is the interval it reports', () => {
    for (let minutes = 1; minutes <= 36 * 60; minutes++) {
      const { cron, intervalMs } = cronFor(minutes * MIN);
      const gap = longestGapMs([cron]);
      expect(gap, cron).toBe(intervalMs);
      expect(gap!, `${minutes} min → ${cron}`).toBeLessThanOrEqual(Math.max(minutes, 5) * MIN);
      expect(gap!).toBeGreaterThanOrEqual(5 * MIN);
    }
  });

  it('reads the gaps of crons as GitHub runs them', () => {
    expect(longestGapMs(['*/15 * * * *'])).toBe(15 * MIN);
    expect(longestGapMs(['0,50 * * * *'])).toBe(50 * MIN);
    expect(longestGapMs(['0 */8 * * *', '0 4,12 * * *'])).toBe(8 * 60 * MIN);
    expect(longestGapMs(['10-20/5 9 * * *'])).toBe((24 * 60 - 10) * MIN);
    expect(longestGapMs(['0 9 * * 1-5'])).toBe(Infinity);
    expect(longestGapMs(['@hourly'])).toBeUndefined();
    expect(longestGapMs(['61 * * * *'])).toBeUndefined();
  });

  it('takes the shortest every of every environment, the default when none says', () => {
    const a = testEnvironment({ kind: 'embedded', dir: 'x' }, { name: 'a', monitors: [{ name: 'slow', sql: 'SELECT 1', every: '1h' }, { name: 'plain', sql: 'SELECT 1' }] });
    const b = testEnvironment({ kind: 'embedded', dir: 'x' }, { name: 'b', monitors: [{ name: 'fast', sql: 'SELECT 1', every: '5m' }] });
    expect(shortestCadence([a, b])).toEqual({ everyMs: 5 * MIN, monitor: 'fast', environment: 'b', index: 0 });
    expect(shortestCadence([a]).everyMs).toBe(DEFAULT_MONITOR_EVERY_MS);
    expect(shortestCadence([]).everyMs).toBe(DEFAULT_MONITOR_EVERY_MS);
  });
});

const repo = temporaryRepositories('rollout-schedule-');

const environment = (every: string): string => `version: 1
database:
  embedded: .rollout/db
monitors:
  - name: queue age
    sql: SELECT 1
    above: 300
    every: ${every}
`;
const workflow = (cron: string): string => `name: rollout health
on:
  schedule:
    - cron: "${cron}"
jobs:
  rollout:
    uses: ./.github/workflows/rollout-health.yml
`;

describe('rollout validate and the health schedule', () => {
  it('warns at the cron line when a monitor is measured more often than the schedule runs, with the cron to use', async () => {
    const root = repo({ 'environments/staging.yaml': environment('5m'), '.github/workflows/health.yml': workflow('*/15 * * * *') });
    const run = await cli(['--root', root, 'validate']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('.github/workflows/health.yml:4:13');
    expect(run.stdout).toContain("this health schedule runs every 15 min at most, but monitor 'queue age' of staging is measured every 5 min");
    expect(run.stdout).toContain('Set cron: "*/5 * * * *"');
    expect((await cli(['--root', root, 'validate', '--strict'])).code).toBe(1);

    const fixed = repo({ 'environments/staging.yaml': environment('5m'), '.github/workflows/health.yml': workflow('*/5 * * * *') });
    const clean = await cli(['--root', fixed, 'validate', '--strict']);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it('warns at the monitor when its every is shorter than any GitHub schedule', async () => {
    const root = repo({ 'environments/staging.yaml': environment('1m'), '.github/workflows/health.yml': workflow('*/5 * * * *') });
    const run = await cli(['--root', root, 'validate']);
    expect(run.stdout).toContain('environments/staging.yaml:8:12');
    expect(run.stdout).toContain('GitHub runs a schedule at most every 5 minutes: set every: 5m');
    expect(run.stdout).not.toContain('.github/workflows/health.yml');
  });

  it('leaves workflows that do not run health, and repositories without workflows, alone', async () => {
    const other = repo({ 'environments/staging.yaml': environment('5m'), '.github/workflows/ci.yml': 'name: ci\non:\n  schedule:\n    - cron: "0 3 * * *"\njobs: {}\n' });
    expect((await cli(['--root', other, 'validate', '--strict'])).code).toBe(0);
    const none = repo({ 'environments/staging.yaml': environment('5m') });
    expect((await cli(['--root', none, 'validate', '--strict'])).code).toBe(0);
  });

  it('agrees with the workflow rollout init writes', async () => {
    const root = repo({});
    expect((await cli(['--root', root, 'init', '--env', 'staging'])).code).toBe(0);
    const run = await cli(['--root', root, 'validate', '--strict']);
    expect(run.stdout).not.toContain('health schedule');
  });
});
