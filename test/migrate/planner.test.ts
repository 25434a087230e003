import { describe, expect, it } from 'vitest';
import { planBaseline, planMigrations, type PlanRules } from '../../actions/engine/migrate/planner.ts';
import type { MigrationFile } from '../../actions/engine/migrate/files.ts';
import type { HistoryRecord } from '../../actions/engine/migrate/history.ts';
import { checksumSql } from '../../actions/engine/migrate/checksum.ts';

const file = (version: number, sql = `SELECT ${version};`, name = `m${version}`, versionText = String(version)): MigrationFile => ({
  id: String(version),
  version: BigInt(version),
  versionText,
  name,
  layout: 'file',
  path: `migrations/${versionText}_${name}.sql`,
  absolutePath: `/repo/migrations/${versionText}_${name}.sql`,
  sql,
  checksum: checksumSql(sql),
});
/** A Prisma migration folder. */
const folder = (folderName: string, sql = `SELECT '${folderName}';`): MigrationFile => {
  const [, digits, name] = /^(\d+)_(.+)$/.exec(folderName)!;
  return {
    id: folderName,
    version: BigInt(digits),
    versionText: digits,
    name,
    layout: 'folder',
    path: `prisma/migrations/${folderName}/migration.sql`,
    absolutePath: `/repo/prisma/migrations/${folderName}/migration.sql`,
    sql,
    checksum: checksumSql(sql),
  };
};
const record = (version: number, overrides: Partial<HistoryRecord> = {}): HistoryRecord => ({
  id: String(version),
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
  adoptedFrom: null,
  ...overrides,
});
const folderRecord = (f: MigrationFile): HistoryRecord => record(Number(f.version), { id: f.id, name: f.name, checksum: f.checksum });
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

describe('migration identity', () => {
  it('runs Prisma folders that share a timestamp as two migrations, in Prisma\'s order (by folder name)', () => {
    const view = folder('20240304123642_traces_view');
    const improvement = folder('20240304123642_traces_view_improvement');
    const init = folder('20240101000000_init');
    const plan = planMigrations([init, view, improvement], [folderRecord(init), folderRecord(view)], { ...rules, ordering: 'prisma' });
    expect(plan.problems).toEqual([]);
    expect(plan.entries.map((e) => [e.id, e.state])).toEqual([
      ['20240101000000_init', 'applied'],
      ['20240304123642_traces_view', 'applied'],
      ['20240304123642_traces_view_improvement', 'pending'],
    ]);
    expect(plan.toRun).toEqual([improvement]);
  });

  it('says a new Prisma folder that sorts before an applied one is out of order, by folder name', () => {
    const early = folder('20240304123642_a_early');
    const view = folder('20240304123642_traces_view');
    const plan = planMigrations([early, view], [folderRecord(view)], { ...rules, ordering: 'prisma' });
    expect(plan.problems.map((p) => [p.file, p.message])).toEqual([
      [early.path, expect.stringContaining('is new but older than the newest applied migration (20240304123642_traces_view). Give its folder a name that sorts after it') as unknown],
    ]);
  });

  it('blames a new plain file that reuses an applied version, not the applied one', () => {
    const orders = file(1, 'CREATE TABLE orders ();', 'orders', '0001');
    const dup = file(1, 'CREATE TABLE dup ();', 'dup', '0001');
    const plan = planMigrations([dup, orders, file(2)], [record(1, { name: 'orders', checksum: orders.checksum }), record(2)], rules);
    expect(plan.entries.map((e) => [e.path, e.state])).toEqual([
      ['migrations/0001_orders.sql', 'applied'],
      ['migrations/2_m2.sql', 'applied'],
    ]);
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toMatchObject({ file: 'migrations/0001_dup.sql', severity: 'error' });
    expect(plan.problems[0].message).toContain('Migration version 0001 of migrations/0001_dup.sql is already used by migrations/0001_orders.sql (applied on 2026-11-01T00:00:00.000Z)');
    expect(plan.problems[0].message).toContain('rename it to 0003_dup.sql');
    expect(plan.toRun).toEqual([]);
  });

  it('with nothing applied, keeps the first of two plain files with one version by name and reports the others', () => {
    const a = file(5, 'SELECT 1;', 'a');
    const b = file(5, 'SELECT 2;', 'b');
    const c = file(5, 'SELECT 3;', 'c');
    const plan = planMigrations([c, a, b], [], rules);
    expect(plan.problems.map((p) => p.file)).toEqual(['migrations/5_c.sql', 'migrations/5_b.sql']);
    expect(plan.problems.map((p) => /rename it to (\S+)\./.exec(p.message)?.[1])).toEqual(['6_c.sql', '7_b.sql']);
    expect(plan.toRun).toEqual([a]);
  });
});

describe('planBaseline', () => {
  it('adopts files up to the version that are not applied with the same checksum', () => {
    const adopted = planBaseline([file(1), file(2, 'SELECT 22;'), file(3), file(4)], [record(1), record(2)], 3n);
    expect(adopted.map((f) => Number(f.version))).toEqual([2, 3]);
  });
});
