/** The golden helper only compares: a missing golden fails everywhere, and only the update command writes. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectGolden, updatingGoldens } from '../support/golden.ts';

describe('golden files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollout-golden-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing golden fails, in CI and outside it, and is not written', () => {
    const file = join(dir, 'missing.golden');
    for (const env of [{}, { CI: 'true' }, { CI: 'false' }]) {
      expect(() => expectGolden(file, 'text', env)).toThrow(/missing\.golden is missing: run npm run golden:update/);
      expect(existsSync(file)).toBe(false);
    }
  });

  it('compares with the file and never rewrites it when it differs', () => {
    const file = join(dir, 'x.golden');
    writeFileSync(file, 'old\n');
    expect(() => expectGolden(file, 'old\n', {})).not.toThrow();
    expect(() => expectGolden(file, 'new\n', {})).toThrow(/x\.golden differs/);
    expect(readFileSync(file, 'utf8')).toBe('old\n');
  });

  it('writes only in the update command, and refuses to in CI', () => {
    const file = join(dir, 'x.golden');
    expect(updatingGoldens({ ROLLOUT_UPDATE_GOLDEN: '1' })).toBe(true);
    expectGolden(file, 'fresh\n', { ROLLOUT_UPDATE_GOLDEN: '1' });
    expect(readFileSync(file, 'utf8')).toBe('fresh\n');
    expect(() => expectGolden(file, 'other\n', { ROLLOUT_UPDATE_GOLDEN: '1', CI: 'true' })).toThrow(/in CI: golden files are written only by npm run golden:update/);
    expect(readFileSync(file, 'utf8')).toBe('fresh\n');
    // The old variable no longer writes anything.
    expect(() => expectGolden(file, 'other\n', { UPDATE_GOLDEN: '1' })).toThrow(/differs/);
  });
});
