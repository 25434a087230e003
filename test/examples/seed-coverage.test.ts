/**
 * scripts/seed-coverage.mjs: the requirement tables of the four guides' READMEs are sound —
 * every ✅ row names a test that exists, every file:line still holds what its title says —
 * and the script fails on a table that claims what it does not prove.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkReadme } from '../../scripts/seed-coverage.mjs';

const ROOT = join(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/seed-coverage.mjs');

it('every guide README opens with a sound requirement table: each ✅ row names tests that exist', () => {
  const run = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  for (const guide of ['seed-001-day0-cutover', 'seed-002-staging-rollout', 'seed-003-stream5-scoring', 'seed-004-staged-rollout']) {
    expect(run.stdout).toMatch(new RegExp(`^\\| ${guide} \\| \\d+ \\| \\d+.* \\| \\d+ \\| \\d+ \\|$`, 'm'));
  }
  const counts = JSON.parse(execFileSync(process.execPath, [SCRIPT, '--json'], { encoding: 'utf8' })) as { name: string; counts: { done: number; total: number } }[];
  expect(counts).toHaveLength(4);
  for (const { counts: c } of counts) expect(c.done).toBeGreaterThan(c.total / 2);
});

describe('a table that claims what it does not prove', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'seed-coverage-'));
    writeFileSync(join(dir, 'checks.yaml'), '# shared checks\n- name: interests seeded\n  sql: SELECT 1\n');
    writeFileSync(join(dir, 'guide.test.ts'), "it('interests are counted', () => {});\nit('the guide\\'s heartbeat', () => {});\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const readme = (rows: string[], extra = '') => {
    const file = join(dir, 'README.md');
    writeFileSync(file, ['# Guide', '', '| # | the guide says | here | test | status |', '| --- | --- | --- | --- | --- |', ...rows, '', '## Runbook', '', '### Deploy', extra].join('\n'));
    return file;
  };
  const test = (name: string) => `\`${join(dir, 'guide.test.ts')}\` › ${name}`;
  const ref = '[checks.yaml:2](checks.yaml#L2 "name: interests seeded")';

  it('passes a sound table, with escaped quotes in test names', () => {
    const result = checkReadme(readme([`| 1 | “6 interests” | ${ref} | ${test('interests are counted')}<br>${test("the guide's heartbeat")} | ✅ |`, '| 2 | “deploy” | — | — | outside the database: [deploy](#deploy) |', '| 3 | “canary per user” | — | — | pending: serving |']));
    expect(result.problems).toEqual([]);
    expect(result.counts).toEqual({ done: 1, pending: 1, outside: 1, total: 3, pendingOn: { serving: 1 } });
  });

  it('fails a ✅ row that names no test, or a test that does not exist', () => {
    const result = checkReadme(readme([`| 1 | “6 interests” | ${ref} | — | ✅ |`, `| 2 | “6 interests” | ${ref} | ${test('interests are counted twice')} | ✅ |`]));
    expect(result.problems).toEqual([
      expect.stringMatching(/\(row 1\): ✅ but names no test/),
      expect.stringMatching(/\(row 2\): .*guide\.test\.ts has no test named "interests are counted twice"/),
    ]);
  });

  it('fails a reference whose line no longer holds its title, and --fix moves it to where the title is now', () => {
    const file = readme([`| 1 | “6 interests” | [checks.yaml:3](checks.yaml#L3 "name: interests seeded") | ${test('interests are counted')} | ✅ |`]);
    expect(checkReadme(file).problems).toEqual([expect.stringMatching(/checks\.yaml:3 went stale, "name: interests seeded" is on line 2 now \(run node scripts\/seed-coverage\.mjs --fix\)/)]);
    const fixed = checkReadme(file, { fix: true });
    expect(fixed.text).toContain(ref);
    writeFileSync(file, fixed.text);
    expect(checkReadme(file).problems).toEqual([]);
  });

  it('fails a missing file, an "outside" row without the step that covers it, a pending row without its feature, rows out of order', () => {
    const result = checkReadme(
      readme([
        `| 1 | “x” | [gone.yaml:1](gone.yaml#L1 "x") | ${test('interests are counted')} | ✅ |`,
        '| 2 | “cron” | — | — | outside the database |',
        '| 3 | “cron” | — | — | outside the database: [cron](#cron-jobs) |',
        '| 5 | “canary” | — | — | pending: |',
        '| 6 | “done?” | — | — | yes |',
      ]),
    );
    expect(result.problems).toEqual([
      expect.stringMatching(/row 4 is numbered "5"/),
      expect.stringMatching(/row 6 is numbered "6"|row 5 is numbered "6"/),
      expect.stringMatching(/\(row 1\): gone\.yaml does not exist/),
      expect.stringMatching(/\(row 2\): "outside the database" must link to what covers it/),
      expect.stringMatching(/\(row 3\): #cron-jobs is not a heading/),
      expect.stringMatching(/\(row 5\): status "pending:" is none of/),
      expect.stringMatching(/\(row 6\): status "yes" is none of/),
    ]);
  });
});
