/**
 * Golden files for the three renderings of a repository with one of every mistake
 * (test/fixtures/golden/repo). A change in wording shows up as a diff to review.
 *
 * Update after an intended change, then read the diff: npm run golden:update
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import { PROBLEM_FORMATS, renderProblems, type ProblemFormat } from '../../actions/engine/render/problems.ts';
import { expectGolden } from '../support/golden.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'golden');
const REPO = join(FIXTURES, 'repo');
/** A fixed clock, so the expired-flag warning does not depend on the day the test runs. */
const NOW = new Date('2026-03-01T00:00:00Z');
const EXTENSION: Record<ProblemFormat, string> = { text: 'txt', json: 'json', github: 'github.txt' };

const repository = loadRepository(REPO, { now: NOW });
const sources = new Map([...repository.files.values()].map((f) => [f.source.file, f.source.text]));
const render = (format: ProblemFormat): string => renderProblems(repository.problems, format, { sources, color: false });
const messages = repository.problems.map((p) => p.message);

describe('golden renderings of a repository with many problems', () => {
  it.each(PROBLEM_FORMATS)('%s matches its golden file', (format) => {
    expectGolden(join(FIXTURES, `validate.${EXTENSION[format]}`), render(format));
  });

  it('never prints the password written in the file, in any format', () => {
    expect(sources.get('environments/staging.yaml')).toContain('hunter2');
    for (const format of PROBLEM_FORMATS) expect(render(format)).not.toContain('hunter2');
    expect(render('text')).toContain('postgres://admin:***@db.internal');
  });

  it('the text rendering has no colour codes when colour is off, and some when on', () => {
    expect(render('text')).not.toContain('\u001b[');
    expect(renderProblems(repository.problems, 'text', { sources, color: true })).toContain('\u001b[31m');
  });
});

describe('the fixture exercises every kind of problem', () => {
  const has = (pattern: RegExp, where?: { file?: string; line?: number }): void => {
    const found = repository.problems.filter((p) => pattern.test(p.message) && (!where?.file || p.file === where.file) && (!where?.line || p.line === where.line));
    expect(found, `${pattern} ${JSON.stringify(where ?? {})} in:\n${messages.join('\n')}`).not.toHaveLength(0);
  };

  it('syntax: a duplicate key, at the second occurrence, naming the first', () => has(/^duplicate key 'description': it is already set on line 4/, { line: 5 }));
  it('unknown keys, with "did you mean"', () => {
    has(/unknown key 'flag_stor' in the file; did you mean 'flag_store'\?/);
    has(/unknown key 'contrct' in flags\["learning.enabled"\]; did you mean 'contract'\?/);
  });
  it('wrong types', () => has(/migrations\.lock_timeout must be a string, not number 5/));
  it('contract violations pinned to the nested node', () => {
    has(/value\.epsilon must be <= 1, not 1\.5 \(contract 'ranker-policy'/, { line: 25 });
    const epsilon = repository.problems.find((p) => /value\.epsilon/.test(p.message))!;
    expect(sources.get(epsilon.file)!.split('\n')[epsilon.line - 1].slice(epsilon.column - 1)).toMatch(/^1\.5/);
    has(/unknown key 'colour' in flags\["crush_mode.enabled"\]\.value/);
  });
  it('a missing contract, with the closest one', () => has(/contract 'rankr-policy' not found: .*did you mean 'ranker-policy'\?/));
  it('a literal password in a database URL', () => has(/database\.url_env holds a URL with a literal password.*url_env: STAGING_DATABASE_URL/));
  it('a promotion cycle, at every member', () => {
    has(/promotion cycle: dr → production → dr/, { file: 'environments/dr.yaml' });
    has(/promotion cycle: dr → production → dr/, { file: 'environments/production.yaml' });
  });
  it('a downstream flag its upstream lacks (and no such noise inside the cycle)', () => {
    has(/flag 'search\.beta' is in production but not in staging/);
    expect(messages.filter((m) => /is in (dr|production) but not in (dr|production)/.test(m))).toEqual([]);
  });
  it('bad durations', () => {
    has(/Invalid migrations\.statement_timeout "15 minutes"\. Expected: A duration such as/);
    has(/Invalid migrations\.advisory_lock\.timeout "2x"/);
  });
  it('an expired flag is a warning, by the fixed clock', () => {
    const expired = repository.problems.find((p) => /expired on 2025-01-31/.test(p.message));
    expect(expired?.severity).toBe('warning');
    expect(loadRepository(REPO, { now: new Date('2025-01-01T00:00:00Z') }).problems.some((p) => /expired/.test(p.message))).toBe(false);
  });
  it('a kill switch with a non-boolean value, and a canary without percent', () => {
    has(/flag 'global\.safe_mode' is a kill switch, so its value must be/, { file: 'environments/production.yaml' });
    has(/flag 'ranker\.policy' is at stage canary but has no percent/);
  });
});
