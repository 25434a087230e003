/**
 * `rollout validate` as a user runs it, through runCli in-process with fake streams:
 * exit codes, --env, --root, and the shape of each output format.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../actions/cli/main.ts';
import type { Problem } from '../../actions/engine/problems.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN_REPO = join(REPO_ROOT, 'test', 'fixtures', 'golden', 'repo');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function rollout(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { stdout: { write: (s: string) => void out.push(s), isTTY: false }, stderr: { write: (s: string) => void err.push(s) } }, env);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** A copy of the example repository whose staging file we can break. */
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'rollout-validate-'));
  for (const dir of ['environments', 'contracts', 'migrations']) cpSync(join(REPO_ROOT, dir), join(scratch, dir), { recursive: true });
  const staging = join(scratch, 'environments', 'staging.yaml');
  // One error in staging only: an unknown key, with a literal password nearby for masking.
  writeFileSync(staging, `${'\n'}unknwon_key: 1\n`, { flag: 'a' });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const expectNoStack = (run: Run): void => {
  expect(run.stdout + run.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
  expect(run.stdout + run.stderr).not.toContain('internal error');
};

describe('rollout validate: exit codes', () => {
  it('the example repository (this one) validates clean: exit 0', async () => {
    const run = await rollout(['validate', '--root', REPO_ROOT]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^✓ 3 environment\(s\) valid: local, production, staging\n$/);
  });

  it('clean in json and github too: an empty list, and no annotations', async () => {
    expect(await rollout(['validate', '--root', REPO_ROOT, '--format', 'json'])).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    expect(await rollout(['validate', '--root', REPO_ROOT, '--format', 'github'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('problems: exit 1, each as file:line:column: severity: message', async () => {
    const run = await rollout(['validate', '--root', scratch]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^environments\/staging\.yaml:\d+:1: error: unknown key 'unknwon_key' in the file\./m);
    expect(run.stdout).toMatch(/1 error, 0 warnings\n$/);
    expectNoStack(run);
  });

  it('--root is relative to the current directory and defaults to it (ROLLOUT_ROOT too)', async () => {
    expect((await rollout(['validate'], { ROLLOUT_ROOT: REPO_ROOT })).code).toBe(0);
    expect((await rollout(['validate'], { ROLLOUT_ROOT: scratch })).code).toBe(1);
    expect((await rollout(['--root', scratch, 'validate'])).code).toBe(1);
  });

  it('an unknown environment is a usage error (exit 2) with a suggestion', async () => {
    const run = await rollout(['validate', '--root', REPO_ROOT, '--env', 'stagign']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown environment 'stagign'; did you mean 'staging'\? Environments: local, production, staging\./);
    expect(run.stdout).toBe('');
  });

  it('an unknown format is a usage error (exit 2)', async () => {
    const run = await rollout(['validate', '--root', REPO_ROOT, '--format', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  // Known bug, left to the owner of actions/cli/main.ts: configureOutput is set on the
  // program only, so a subcommand's own errors (bad --format choice, unknown option)
  // go to process.stderr instead of the streams runCli was given. Flip to `it` once fixed.
  it('an unknown format says why on the given stderr, listing the formats', async () => {
    const run = await rollout(['validate', '--root', REPO_ROOT, '--format', 'xml']);
    expect(run.stderr).toMatch(/'xml' is invalid\. Allowed choices are text, json, github/);
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    const command = await rollout(['validat']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'validat'/);
    expect((await rollout(['validate', '--frmat', 'json'])).code).toBe(2);
  });

  it('a directory without environments is a problem (exit 1) that says what to create', async () => {
    await withRepo({}, async (empty) => {
      const run = await rollout(['validate', '--root', empty]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/no environments found: create environments\/<name>\.yaml/);
    });
  });
});

/** A repository in a temporary directory made of `files` (paths relative to it), removed after `fn`. */
async function withRepo(files: Record<string, string>, fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'rollout-validate-repo-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('rollout validate: contracts', () => {
  it('a contract that is not a valid JSON Schema (2020-12 or draft-07) is a problem in that file, naming the keyword', async () => {
    const files = {
      'contracts/modern.schema.json': JSON.stringify({ type: 'object', properties: { mode: { type: 'strin' } } }),
      'contracts/classic.schema.json': JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { minimum: '5' } } }),
      'contracts/fine.schema.json': JSON.stringify({ type: 'object', required: ['on'], properties: { on: { type: 'boolean' } } }),
      'environments/dev.yaml':
        'version: 1\ndatabase:\n  embedded: .rollout/dev\nflags:\n  a:\n    value: { mode: x }\n    contract: modern\n  b:\n    value: { n: 1 }\n    contract: classic\n  c:\n    value: { on: 1 }\n    contract: fine\n',
    };
    await withRepo(files, async (root) => {
      const run = await rollout(['validate', '--root', root, '--format', 'json']);
      expect(run.code).toBe(1);
      const problems = JSON.parse(run.stdout) as Problem[];
      expect(problems.find((p) => p.file === 'contracts/modern.schema.json')).toMatchObject({
        line: 1,
        column: 47,
        message: expect.stringMatching(/^not a valid JSON Schema: schema\/properties\/mode\/type must be equal to one of the allowed values/) as unknown,
      });
      expect(problems.find((p) => p.file === 'contracts/classic.schema.json')).toMatchObject({ message: 'not a valid JSON Schema: schema/properties/n/minimum must be number' });
      // A valid contract still checks its flags.
      expect(problems.find((p) => p.file === 'environments/dev.yaml')).toMatchObject({ line: 12, message: expect.stringContaining("contract 'fine'") as unknown });
      expectNoStack(run);
    });
  });
});

describe('rollout validate: shared check files (use:)', () => {
  it('reports a missing file and a cycle at the use, and a broken file at its own line, once for all environments', async () => {
    const env = (extra: string): string =>
      `version: 1\ndatabase:\n  embedded: .rollout/x\nchecks:\n  - name: smoke\n    use: smoke\n  - name: gone\n    use: nosuch\n  - name: loop\n    use: ping\n${extra}`;
    const files = {
      'environments/staging.yaml': env('promotes_to: production\n'),
      'environments/production.yaml': env(''),
      'checks/smoke.yaml': '- name: one\n  sql: SELECT 1\n  expect: { rows: 1 }\n- name: two\n  sql: SELECT 2\n  expect: { rowz: 1 }\n',
      'checks/ping.yaml': '- name: back\n  use: pong\n',
      'checks/pong.yaml': 'checks:\n  - name: again\n    use: ping\n',
    };
    await withRepo(files, async (root) => {
      const run = await rollout(['validate', '--root', root, '--format', 'json']);
      expect(run.code).toBe(1);
      const problems = (JSON.parse(run.stdout) as Problem[]).map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
      // The broken shared file: at its own line, once though both environments use it.
      expect(problems.filter((p) => p.startsWith('checks/smoke.yaml:6:'))).toHaveLength(1);
      expect(problems.find((p) => p.startsWith('checks/smoke.yaml:6:'))).toMatch(/rowz/);
      for (const file of ['environments/staging.yaml', 'environments/production.yaml']) {
        expect(problems).toContain(`${file}:8:10 shared check file checks/nosuch.yaml not found. Create it (a YAML list of checks), or fix the name after use:.`);
      }
      expect(problems).toContain('checks/pong.yaml:3:10 checks/ping.yaml includes itself (ping → pong → ping); remove the cycle.');
      expectNoStack(run);

      // --env limits the report to what that environment reaches.
      writeFileSync(join(root, 'environments/production.yaml'), 'version: 1\ndatabase:\n  embedded: .rollout/x\n');
      expect((await rollout(['validate', '--root', root, '--env', 'production'])).code).toBe(0);
    });
  });
});

describe('rollout validate --env', () => {
  it('reports only the named environments (the others are still read for cross-checks)', async () => {
    expect((await rollout(['validate', '--root', scratch, '--env', 'local', '--env', 'production'])).code).toBe(0);
    const staging = await rollout(['validate', '--root', scratch, '--env', 'staging', '--format', 'json']);
    expect(staging.code).toBe(1);
    const problems = JSON.parse(staging.stdout) as Problem[];
    expect(new Set(problems.map((p) => p.file))).toEqual(new Set(['environments/staging.yaml']));
  });

  it('several names after one --env work too', async () => {
    const run = await rollout(['validate', '--root', GOLDEN_REPO, '--env', 'dr', 'production', '--format', 'json']);
    const files = new Set((JSON.parse(run.stdout) as Problem[]).map((p) => p.file));
    expect(files).toEqual(new Set(['environments/dr.yaml', 'environments/production.yaml']));
  });
});

describe('rollout validate output formats, on the repository with many problems', () => {
  it('json: a list of {file, line, column, severity, message} with 1-based integer positions', async () => {
    const run = await rollout(['validate', '--root', GOLDEN_REPO, '--format', 'json']);
    expect(run.code).toBe(1);
    const problems = JSON.parse(run.stdout) as Problem[];
    expect(problems.length).toBeGreaterThan(10);
    for (const p of problems) {
      expect(Object.keys(p).sort()).toEqual(['column', 'file', 'line', 'message', 'severity']);
      expect(Number.isInteger(p.line) && p.line >= 1, JSON.stringify(p)).toBe(true);
      expect(Number.isInteger(p.column) && p.column >= 1, JSON.stringify(p)).toBe(true);
      expect(['error', 'warning']).toContain(p.severity);
      expect(p.file).toMatch(/^environments\/[a-z]+\.yaml$/);
      expect(p.message.length).toBeGreaterThan(10);
    }
    expect(run.stdout).not.toContain('hunter2');
  });

  it('github: one workflow command per problem', async () => {
    const run = await rollout(['validate', '--root', GOLDEN_REPO, '--format', 'github']);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line).toMatch(/^::(error|warning) file=environments\/[a-z]+\.yaml,line=\d+,col=\d+::\S/);
    expect(lines.some((l) => l.startsWith('::warning '))).toBe(true);
    expect(run.stdout).not.toContain('hunter2');
  });

  it('text: the offending line under each problem, with a caret, and the password masked', async () => {
    const run = await rollout(['validate', '--root', GOLDEN_REPO]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('postgres://admin:***@db.internal');
    expect(run.stdout).not.toContain('hunter2');
    expect(run.stdout).toMatch(/\n {3}25 \| {5}value: \{ version: greedy, epsilon: 1\.5 \}\n {6}\| {40}\^\n/);
    expect(run.stdout).not.toContain('\u001b[');
    expectNoStack(run);
  });

  it('--strict fails on warnings alone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rollout-strict-'));
    try {
      for (const dir of ['environments', 'contracts', 'migrations']) cpSync(join(REPO_ROOT, dir), join(root, dir), { recursive: true });
      // The example's crush_mode flag expires 2027-06-30; one that expired long ago only warns.
      writeFileSync(
        join(root, 'environments', 'local.yaml'),
        'version: 1\ndatabase: { embedded: .rollout/local }\nflags:\n  old.flag: { value: 1, expires: 2000-01-01 }\n',
      );
      expect((await rollout(['validate', '--root', root, '--env', 'local'])).code).toBe(0);
      const strict = await rollout(['validate', '--root', root, '--env', 'local', '--strict']);
      expect(strict.code).toBe(1);
      expect(strict.stdout).toMatch(/warning: flag 'old\.flag' expired on 2000-01-01/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
