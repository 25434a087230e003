/**
 * The README's first quickstart command, `npm run demo`, runs to the end: it edits copies of
 * this repository's environment files by anchor text, so a change to those files that moves
 * an anchor must fail here, not on a new user's first try.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('runs every step to "demo: done" on the embedded database', { timeout: 240_000 }, () => {
    const run = spawnSync(process.execPath, ['scripts/demo.mjs'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 230_000 });
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status, run.stdout.slice(-2000) + run.stderr).toBe(0);
    expect(run.stdout).toContain('5 errors, 0 warnings');
    expect(run.stdout).toContain("who: units in 'internal' switch from the off value to the value");
    expect(run.stdout.trimEnd().endsWith('demo: done')).toBe(true);
  });
});
