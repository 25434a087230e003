/** Issue 13, defect 7: a size limit, an unclosed bracket found where it opens, the real cause first. */
import { describe, expect, it } from 'vitest';
import { temporaryRepositories } from '../support/repository.ts';
import { MAX_ENVIRONMENT_FILE_BYTES, loadRepository } from '../../actions/engine/config/repository.ts';

const repo = temporaryRepositories('rollout-limits-');

const head = 'version: 1\ndatabase:\n  embedded: .rollout/db\n';
const lines = (root: string): string[] => loadRepository(root).problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.severity}: ${p.message}`);

describe('environment file limits', () => {
  it('refuses a file over the size limit before parsing it', () => {
    const root = repo({ 'environments/big.yaml': `${head}flags:\n  a:\n    value: "${'x'.repeat(MAX_ENVIRONMENT_FILE_BYTES)}"\n` });
    expect(lines(root)).toEqual([expect.stringMatching(/^environments\/big\.yaml:1:1 error: environments\/big\.yaml is 8\.0 MiB; rollout reads environment files of up to 8 MiB/)]);
  });

  it('points at an unclosed { where it opens, not at "bad indentation" on the next line', () => {
    const root = repo({ 'environments/local.yaml': `${head}flags:\n  a:\n    value: { enabled: true\n    kill_switch: true\n  b:\n    value: 1\n` });
    expect(lines(root)).toEqual([
      "environments/local.yaml:6:12 error: unclosed '{': the map opened here is never closed; add '}' at the end of line 6 (or write it as indented lines)",
    ]);
  });

  it('points at an unclosed [ too, and leaves brackets in quotes and comments alone', () => {
    const root = repo({ 'environments/local.yaml': `${head}flags:\n  a:  # a [note\n    value: ["it's", "[x"\n    kill_switch: true\n` });
    expect(lines(root)[0]).toMatch(/^environments\/local\.yaml:6:12 error: unclosed '\['/);
  });

  it('reports a top-level typo in the upstream without follow-on errors in the downstream', () => {
    const root = repo({
      'environments/staging.yaml': `${head}promotes_to: production\nflgas:\n  a:\n    value: 1\n`,
      'environments/production.yaml': `${head}flags:\n  a:\n    value: 1\n  b:\n    value: 2\n`,
    });
    const found = lines(root);
    expect(found.filter((l) => / error: /.test(l))).toEqual(["environments/staging.yaml:5:1 error: unknown key 'flgas' in the file; did you mean 'flags'?"]);
    expect(found).toContain("environments/production.yaml:1:1 warning: production's flags were not compared with staging's, which promotes to production: environments/staging.yaml has errors that leave it without flags; fix those first.");
  });
});
