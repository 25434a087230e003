import { describe, expect, it } from 'vitest';
import { planBaseline, planMigrations, type PlanRules } from '../../actions/engine/migrate/planner.ts';
import type { MigrationFile } from '../../actions/engine/migrate/files.ts';
import type { HistoryRecord } from '../../actions/engine/migrate/history.ts';
import { checksumSql } from '../../actions/engine/migrate/checksum.ts';

const file = (version: number, sql = `SELECT ${version};`): MigrationFile => ({
  version: BigInt(version),
  name: `m${version}`,
  path: `migrations/${version}_m${version}.sql`,
  absolutePath: `/repo/migrations/${version}_m${version}.sql`,
  sql,
  checksum: checksumSql(sql),
});
const record = (version: number, overrides: Partial<HistoryRecord> = {}): HistoryRecord => ({
  version: BigInt(version),
  name: `m${version}`,
  checksum: checksumSql(`SELECT ${version};`),
  status: 'applied',
  execution: 'transaction',
  appliedAt: new Date('2026-11-01T00:00:00Z'),
  appliedBy: 'ci',
  durationMs: 3,
  commit: null,
  error: null,
  ...overrides,
});
const rules: PlanRules = { allowMissing: false, allowOutOfOrder: false, environment: 'staging', directory: 'migrations' };

describe('planMigrations', () => {
  it('runs new files in version order after the applied ones', () => {
    const plan = planMigrations([file(1), file(2), file(10)], [record(1)], rules);
    expect(plan.entries.map((e) => [Number(e.version), e.state])).toEqual([[1, 'applied'], [2, 'pending'], [10, 'pending']]);
    expect(plan.toRun.map((f) => Number(f.version))).toEqual([2, 10]);
    expect(plan.problems).toEqual([]);
  });

  it('blocks a changed file and says how to resolve it', () => {
    const plan = planMigrations([file(1, 'SELECT 42;')], [record(1)], rules);
    expect(plan.entries[0].state).toBe('changed');
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0].message).toMatch(/content has changed.*restore it.*rollout migrate baseline --env staging --version 1/s);
  });

  it('ignores line endings and trailing whitespace in checksums', () => {
    const plan = planMigrations([file(1, 'SELECT 1;  \r\n\r\n')], [record(1)], rules);
    expect(plan.entries[0].state).toBe('applied');
  });

  it('blocks missing and out-of-order files unless allowed, then warns', () => {
    const strict = planMigrations([file(2), file(3)], [record(1), record(3)], rules);
    expect(strict.problems.map((p) => [p.severity, p.file])).toEqual([
      ['error', 'migrations/2_m2.sql'],
      ['error', 'migrations/1_m1'],
    ]);
    expect(strict.entries.find((e) => e.version === 2n)?.outOfOrder).toBe(true);
    const lenient = planMigrations([file(2), file(3)], [record(1), record(3)], { ...rules, allowMissing: true, allowOutOfOrder: true });
    expect(lenient.problems.map((p) => p.severity)).toEqual(['warning', 'warning']);
    expect(lenient.toRun.map((f) => Number(f.version))).toEqual([2]);
  });

  it('blocks on a failed migration until --retry-failed, which re-runs it', () => {
    const failed = [record(1), record(2, { status: 'failed', error: 'boom' })];
    const blocked = planMigrations([file(1), file(2), file(3)], failed, rules);
    expect(blocked.problems[0].message).toMatch(/failed part-way.*boom.*--retry-failed/s);
    const retry = planMigrations([file(1), file(2), file(3)], failed, { ...rules, retryFailed: true });
    expect(retry.problems).toEqual([]);
    expect(retry.toRun.map((f) => Number(f.version))).toEqual([2, 3]);
  });
});

describe('planBaseline', () => {
  it('adopts files up to the version that are not applied with the same checksum', () => {
    const adopted = planBaseline([file(1), file(2, 'SELECT 22;'), file(3), file(4)], [record(1), record(2)], 3n);
    expect(adopted.map((f) => Number(f.version))).toEqual([2, 3]);
  });
});
