/** The committed bundles in dist/actions are what the sources build to now (CI fails on a stale bundle). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from './support.ts';

const fresh = mkdtempSync(join(tmpdir(), 'rollout-dist-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => relative(dir, join(dir, f)))
    .sort();
}

it('dist/actions matches a fresh build (run node scripts/build.mjs --actions and commit dist/actions)', () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--actions-only', '--outdir', fresh], { cwd: ROOT });
  const committed = join(ROOT, 'dist/actions');
  expect(files(committed)).toEqual(files(fresh));
  for (const file of files(fresh)) expect(readFileSync(join(committed, file)).equals(readFileSync(join(fresh, file))), `dist/actions/${file} is stale`).toBe(true);
});
