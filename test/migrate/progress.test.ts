import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressReporter } from '../../actions/engine/migrate/progress.ts';
import type { PreparedMigration, ProgressEvent } from '../../actions/engine/migrate/execute.ts';
import { MigrationError } from '../../actions/engine/migrate/migration-error.ts';

const migration = (n: number): PreparedMigration =>
  ({ file: { path: `migrations/${n}_m.sql` }, execution: 'transaction', reasons: [], statements: undefined, directives: {} }) as unknown as PreparedMigration;
const done = (n: number, total = 3): ProgressEvent => ({ kind: 'done', index: n, total, migration: migration(n), durationMs: 1 });
const start = (n: number, total = 3): ProgressEvent => ({ kind: 'start', index: n, total, migration: migration(n) });

describe('migration progress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('on a terminal writes every line at once', () => {
    const writes: string[] = [];
    const report = progressReporter({ out: (t) => writes.push(t), isTTY: true, githubActions: false, now: () => 0 });
    report(start(1));
    report(done(1));
    expect(writes).toEqual(['[1/3] migrations/1_m.sql … (elapsed 0 ms)', '[1/3] applied migrations/1_m.sql in 1 ms (elapsed 0 ms)']);
  });

  it('off a terminal batches lines, writing them within 100 ms or on flush', () => {
    const writes: string[] = [];
    const report = progressReporter({ out: (t) => writes.push(t), isTTY: false, githubActions: false, now: () => 0 });
    report(done(1));
    report(done(2));
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(writes).toEqual(['[1/3] applied migrations/1_m.sql in 1 ms (elapsed 0 ms)\n[2/3] applied migrations/2_m.sql in 1 ms (elapsed 0 ms)']);
    report(done(3));
    report.flush();
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe('[3/3] applied migrations/3_m.sql in 1 ms (elapsed 0 ms)');
    report.flush();
    vi.advanceTimersByTime(1000);
    expect(writes).toHaveLength(2);
  });

  it('writes a failure at once, with what was waiting before it, and closes the group in Actions', () => {
    const writes: string[] = [];
    const report = progressReporter({ out: (t) => writes.push(t), isTTY: false, githubActions: true, now: () => 0 });
    report(start(1));
    report(done(1));
    report(start(2));
    report({ kind: 'failed', index: 2, total: 3, migration: migration(2), error: new MigrationError('migrations/2_m.sql', { line: 1, column: 1 }, 'boom', 'boom') });
    expect(writes.join('\n').split('\n')).toEqual([
      '::group::[1/3] migrations/1_m.sql',
      '[1/3] applied migrations/1_m.sql in 1 ms (elapsed 0 ms)',
      '::endgroup::',
      '::group::[2/3] migrations/2_m.sql',
      '[2/3] FAILED migrations/2_m.sql (elapsed 0 ms)',
      '::endgroup::',
    ]);
  });
});
