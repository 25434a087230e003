import { describe, expect, it } from 'vitest';
import { planBaseline, planMigrations, resolveDuplicates, type PlanRules } from '../../actions/engine/migrate/planner.ts';
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

describe('planMigrations: what each problem says', () => {
  it('says a new file older than the newest applied one is out of order, and how to fix it', () => {
    const plan = planMigrations([file(1), file(2), file(3)], [record(1), record(3)], rules);
    expect(plan.problems).toEqual([
      {
        file: 'migrations/2_m2.sql', line: 1, column: 1, severity: 'error',
        message: 'migrations/2_m2.sql is new but older than the newest applied migration (3_m3). Give it a version after 3 (rename the file), or set migrations.allow_out_of_order: true in the environment if its order does not matter.',
      },
    ]);
    expect(plan.toRun.map((f) => Number(f.version))).toEqual([2]);
  });

  it('with allow_out_of_order, runs it with a warning', () => {
    const plan = planMigrations([file(1), file(2), file(3)], [record(1), record(3)], { ...rules, allowOutOfOrder: true });
    expect(plan.problems).toEqual([
      {
        file: 'migrations/2_m2.sql', line: 1, column: 1, severity: 'warning',
        message: 'migrations/2_m2.sql is new but older than the newest applied migration (3_m3). It will run out of order (migrations.allow_out_of_order is true).',
      },
    ]);
  });

  it('finds the newest applied migration whatever the order of the history rows', () => {
    const plan = planMigrations([file(1), file(2), file(3)], [record(3), record(1)], rules);
    expect(plan.problems.map((p) => p.message)).toEqual([expect.stringContaining('(3_m3). Give it a version after 3')]);
    expect(plan.entries.map((e) => [Number(e.version), e.outOfOrder])).toEqual([[1, false], [2, true], [3, false]]);
  });

  it('does not call a pending file newer than every applied one out of order', () => {
    const plan = planMigrations([file(1), file(2)], [record(1)], rules);
    expect(plan.entries.map((e) => e.outOfOrder)).toEqual([false, false]);
    expect(plan.problems).toEqual([]);
  });

  it('says what a changed file was and is, and how to restore it or record it', () => {
    const edited = file(1, 'SELECT 42;');
    const plan = planMigrations([edited], [record(1)], rules);
    expect(plan.problems).toEqual([
      {
        file: 'migrations/1_m1.sql', line: 1, column: 1, severity: 'error',
        message:
          `migrations/1_m1.sql was applied on 2026-11-01T00:00:00.000Z but its content has changed since (checksum ${checksumSql('SELECT 1;').slice(0, 12)} → ${edited.checksum.slice(0, 12)}). ` +
          'An applied migration must not be edited: restore it (git log -p -- migrations/1_m1.sql) and put the change in a new migration. ' +
          'If the database already matches the edited file, record its new checksum with `rollout migrate baseline --env staging --version 1`.',
      },
    ]);
    expect(plan.toRun).toEqual([]);
  });

  it('says a failed migration may be half-applied, with its error or that none was recorded', () => {
    const plan = planMigrations([file(1), file(2)], [record(1, { status: 'failed', error: 'deadlock detected' }), record(2, { status: 'failed' })], rules);
    expect(plan.entries.map((e) => e.state)).toEqual(['failed', 'failed']);
    expect(plan.problems.map((p) => [p.file, p.severity, p.message])).toEqual([
      [
        'migrations/1_m1.sql', 'error',
        'migrations/1_m1.sql failed part-way on 2026-11-01T00:00:00.000Z and ran outside a transaction, so some of its statements may be applied: deadlock detected. ' +
          'Make the file safe to re-run (e.g. IF NOT EXISTS; drop an INVALID index left by CONCURRENTLY) or repair the database by hand, then run `rollout migrate apply --env staging --retry-failed`.',
      ],
      ['migrations/2_m2.sql', 'error', expect.stringContaining('may be applied: no error recorded (the process was stopped). Make the file safe')],
    ]);
    expect(plan.toRun).toEqual([]);
  });

  it('says an applied migration whose file is gone is missing, or ignores it with allow_missing', () => {
    const strict = planMigrations([file(2)], [record(1), record(2)], rules);
    expect(strict.entries.map((e) => [e.path, e.state])).toEqual([['migrations/1_m1', 'missing'], ['migrations/2_m2.sql', 'applied']]);
    expect(strict.problems).toEqual([
      {
        file: 'migrations/1_m1', line: 1, column: 1, severity: 'error',
        message: 'Migration 1_m1 was applied on 2026-11-01T00:00:00.000Z but its file is missing from migrations/. Restore the file (git log --diff-filter=D), or set migrations.allow_missing: true in the environment if it was removed on purpose.',
      },
    ]);
    const lenient = planMigrations([file(2)], [record(1), record(2)], { ...rules, allowMissing: true });
    expect(lenient.problems).toEqual([
      {
        file: 'migrations/1_m1', line: 1, column: 1, severity: 'warning',
        message: 'Migration 1_m1 was applied on 2026-11-01T00:00:00.000Z but its file is missing from migrations/. Ignored (migrations.allow_missing is true).',
      },
    ]);
  });

  it('says a failed migration whose file is gone must be restored or repaired, unless missing files are allowed', () => {
    const history = [record(1, { status: 'failed', error: 'boom' }), record(2)];
    const strict = planMigrations([file(2)], history, rules);
    expect(strict.entries[0]).toMatchObject({ state: 'missing', path: 'migrations/1_m1', outOfOrder: false });
    expect(strict.problems).toEqual([
      {
        file: 'migrations/1_m1', line: 1, column: 1, severity: 'error',
        message: "Migration 1_m1 is recorded as failed and its file is gone. Restore the file and run apply with --retry-failed, or repair the database and delete its row (id '1') from rollout.schema_migrations.",
      },
    ]);
    const lenient = planMigrations([file(2)], history, { ...rules, allowMissing: true });
    expect(lenient.problems.map((p) => [p.severity, p.message])).toEqual([['warning', expect.stringContaining('Ignored (migrations.allow_missing is true).')]]);
  });

  it('names a missing Prisma folder by its folder name, leading zeros included', () => {
    const gone = folder('0001_init');
    const kept = folder('0002_next');
    const plan = planMigrations([kept], [folderRecord(gone), folderRecord(kept)], { ...rules, directory: 'prisma/migrations', ordering: 'prisma' });
    expect(plan.problems.map((p) => [p.file, p.message.split(' was applied')[0]])).toEqual([['prisma/migrations/0001_init', 'Migration 0001_init']]);
  });
});

describe('resolveDuplicates', () => {
  it('keeps the applied file of a version by name when its content changed since (then it is a changed file)', () => {
    const orders = file(1, 'CREATE TABLE orders (id int);', 'orders', '001');
    const dup = file(1, 'CREATE TABLE dup ();', 'dup', '001');
    const { files, problems } = resolveDuplicates([dup, orders], [record(1, { name: 'orders' })]);
    expect(files).toEqual([orders]);
    expect(problems.map((p) => p.message)).toEqual([
      'Migration version 001 of migrations/001_dup.sql is already used by migrations/001_orders.sql (applied on 2026-11-01T00:00:00.000Z). ' +
        'A plain migration file is identified by its version, so each version may be used once: give this file a version no other file has, e.g. rename it to 002_dup.sql.',
    ]);
  });

  it('prefers, of two files with the applied name, the one with the applied content', () => {
    const original = file(1, 'SELECT 1;', 'orders', '1');
    const copy = { ...file(1, 'SELECT 2;', 'orders', '01'), path: 'migrations/01_orders.sql' };
    expect(resolveDuplicates([copy, original], [record(1, { name: 'orders' })]).files).toEqual([original]);
  });

  it('keeps the file with the applied name over a renamed copy of the applied content', () => {
    const edited = file(4, 'SELECT 44;', 'orders');
    const copy = file(4, 'SELECT 4;', 'copy');
    const { files } = resolveDuplicates([copy, edited], [record(4, { name: 'orders' })]);
    expect(files).toEqual([edited]);
  });

  it('without a row for the version, keeps the first file by path and does not call it applied', () => {
    const a = file(7, 'SELECT 1;', 'a', '07');
    const b = file(7, 'SELECT 2;', 'b', '07');
    const { files, problems } = resolveDuplicates([b, a], [record(1)]);
    expect(files).toEqual([a]);
    expect(problems).toEqual([
      expect.objectContaining({ file: 'migrations/07_b.sql', line: 1, column: 1, severity: 'error', message: expect.stringMatching(/^Migration version 07 of migrations\/07_b.sql is already used by migrations\/07_a.sql\. .*rename it to 08_b.sql\.$/) as unknown }),
    ]);
  });

  it('when the applied name is no file of the version, keeps the first by path and names no date', () => {
    const a = file(3, 'SELECT 1;', 'a');
    const b = file(3, 'SELECT 2;', 'b');
    const { files, problems } = resolveDuplicates([b, a], [record(3, { name: 'gone' })]);
    expect(files).toEqual([a]);
    expect(problems[0].message).toContain('is already used by migrations/3_a.sql. A plain');
  });

  it('suggests versions after the newest file, whatever the order of the files', () => {
    const { problems } = resolveDuplicates([file(9), file(5, 'SELECT 1;', 'a'), file(5, 'SELECT 2;', 'b')], []);
    expect(problems.map((p) => /rename it to (\S+)\./.exec(p.message)?.[1])).toEqual(['10_b.sql']);
  });

  it('leaves files with distinct versions alone', () => {
    const files = [file(2), file(1)];
    expect(resolveDuplicates(files, [])).toEqual({ files, problems: [] });
  });
});

describe('planBaseline: which files are recorded', () => {
  it('records a file recorded as failed, and the file of the version itself', () => {
    const history = [record(1), record(2, { status: 'failed' })];
    expect(planBaseline([file(1), file(2), file(3), file(4)], history, 3n).map((f) => Number(f.version))).toEqual([2, 3]);
  });

  it('records nothing when everything up to the version is applied unchanged', () => {
    expect(planBaseline([file(1), file(2), file(3)], [record(1), record(2)], 2n)).toEqual([]);
  });
});
