/**
 * Issue 13, defect 9: the Node version the README states is the one rollout checks and
 * package.json declares, and the README says from which version `npm ci` is free of
 * EBADENGINE warnings, computed here from the engines every locked package declares.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

type Version = [number, number];
const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1];
const show = (v: Version): string => (v[1] === 0 ? `${v[0]}` : `${v[0]}.${v[1]}`);

/** The lowest version from which a range accepts every newer Node: its open-ended alternative (">=22", "20 || >=22"). */
function openLowerBound(range: string): Version | null {
  let lowest: Version | null = null;
  for (const alternative of range.split('||').map((a) => a.trim())) {
    const match = /^>=?\s*(\d+)(?:\.(\d+|\*|x))?/.exec(alternative);
    if (!match || /</.test(alternative)) continue;
    const bound: Version = [Number(match[1]), Number(match[2]) || 0];
    if (!lowest || compare(bound, lowest) < 0) lowest = bound;
  }
  return lowest;
}

it('package.json, the README and the check in bin/rollout.js name the same minimum Node', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const minimum = openLowerBound(engines)!;
  expect(read('README.md')).toContain(`Node.js ${show(minimum)} or newer runs rollout`);
  expect(read('bin/rollout.js')).toContain(`const MINIMUM = [${minimum.join(', ')}];`);
});

it('the README names the Node version from which npm ci warns about no engine', () => {
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
  let needed: Version = [0, 0];
  for (const entry of Object.values(lock.packages)) {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    const bound = range ? openLowerBound(range) : null;
    if (bound && compare(bound, needed) > 0) needed = bound;
  }
  expect(compare(needed, [20, 19])).toBeGreaterThanOrEqual(0);
  expect(read('README.md')).toContain(`free of EBADENGINE warnings from Node.js ${show(needed)} on`);
});

it('on a Node older than the minimum, bin/rollout.js says what to install (exit 1, no stack trace)', () => {
  // The running Node is new enough; pretend it is not by shadowing process.versions before the bin runs.
  const result = spawnSync(process.execPath, ['--import', 'data:text/javascript,Object.defineProperty(process.versions, "node", { value: "18.20.4" })', join(ROOT, 'bin/rollout.js'), '--version'], { encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('error: rollout needs Node.js 20.19 or newer; this is Node.js 18.20.4. Install a newer Node.js');
  expect(result.stderr).not.toMatch(/^\s+at /m);
});
