/**
 * Thousands of broken environment files, made by mutating the repository's own examples:
 * each must load into either a valid environment or problems that point inside the file,
 * without throwing, without a stack trace in the output, and in bounded time (the
 * properties have a fixed number of runs and a test timeout; a hang fails the test).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../actions/cli/main.ts';
import { ContractRegistry } from '../../actions/engine/config/contracts.ts';
import { readEnvironmentFile } from '../../actions/engine/config/environment-file.ts';
import { hasErrors, type Problem } from '../../actions/engine/problems.ts';
import { renderProblems } from '../../actions/engine/render/problems.ts';
import { REPO_ROOT, SEEDS, aliasBomb, cheapMutations, decode, expensiveMutations, mutate, seed, type Mutation } from './mutations.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
const contracts = new ContractRegistry(REPO_ROOT);
/** A Node stack frame ("    at fn (file.ts:1:2)"), as opposed to a user's line that happens to hold " at ". */
const STACK_FRAME = /^\s+at .*(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

/**
 * The positions of every problem are real places in the file, as an editor counts them.
 * Plain checks rather than expect(): this runs for every problem of thousands of files.
 */
function expectPositioned(problems: readonly Problem[], text: string, label: string): void {
  const lines = text.split('\n');
  for (const p of problems) {
    const line = lines[p.line - 1];
    const ok =
      Number.isInteger(p.line) &&
      Number.isInteger(p.column) &&
      line !== undefined &&
      p.line >= 1 &&
      p.column >= 1 &&
      p.column <= line.length + 1 &&
      (p.severity === 'error' || p.severity === 'warning') &&
      p.message.trim() !== '';
    if (!ok) {
      throw new Error(`${label}: problem outside the file (${lines.length} lines; line ${p.line} has ${line?.length ?? 'no'} characters): ${p.line}:${p.column} ${p.message.slice(0, 200)}`);
    }
  }
}

function expectNoInternals(output: string, label: string): void {
  if (STACK_FRAME.test(output) || output.includes('internal error') || /maximum call stack/i.test(output)) {
    throw new Error(`${label}: the output shows an internal error or a stack trace:\n${output.slice(0, 2_000)}`);
  }
}

/** Load one mutated file in-process and check everything the acceptance asks of it. */
function checkLoad(bytes: Uint8Array, name: string, label: string): { valid: boolean } {
  const text = decode(bytes);
  const file = `environments/${name}.yaml`;
  const loaded = readEnvironmentFile(file, text, contracts, NOW);
  expectPositioned(loaded.problems, text, label);
  // Valid means: a typed model and no errors; otherwise at least one error explains why.
  if ((loaded.environment !== undefined) !== !hasErrors(loaded.problems)) {
    throw new Error(`${label}: a file is valid exactly when it has no errors (environment ${loaded.environment ? 'present' : 'absent'}, errors ${hasErrors(loaded.problems)})`);
  }
  for (const format of ['text', 'json', 'github'] as const) {
    expectNoInternals(renderProblems(loaded.problems, format, { sources: new Map([[file, text]]) }), `${label} (${format})`);
  }
  return { valid: loaded.environment !== undefined };
}

const describeMutations = (mutations: readonly Mutation[]): string => mutations.map((m) => m.label).join(' + ');
/** Let the test runner's worker answer its RPC between runs: a long synchronous loop makes it time out. */
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('mutated environment files, in-process', () => {
  it('the seeds themselves are valid', () => {
    for (const s of SEEDS) expect(checkLoad(new TextEncoder().encode(s.text), s.name, s.name).valid).toBe(true);
  });

  it('3,000 cheap mutations (truncation, wrong types, indentation, tabs, junk bytes, flips, deleted and duplicated keys) end valid or positioned', async () => {
    let valid = 0;
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(seed, cheapMutations, async (start, mutations) => {
        const label = `${start.name}: ${describeMutations(mutations)}`;
        if (checkLoad(mutate(start, mutations), start.name, label).valid) valid++;
        else invalid++;
        await breathe();
      }),
      { numRuns: 3_000, seed: 20_260_301 },
    );
    // The mutations really do break files (and some leave them valid): both outcomes occur.
    expect(invalid).toBeGreaterThan(1_000);
    expect(valid).toBeGreaterThan(0);
  }, 180_000);

  it('250 expensive mutations (1 MB values, huge numbers, long keys, nesting to 10,000 levels, alias bombs) end valid or positioned', async () => {
    await fc.assert(
      fc.asyncProperty(seed, expensiveMutations, async (start, mutations) => {
        checkLoad(mutate(start, mutations), start.name, `${start.name}: ${describeMutations(mutations)}`);
        await breathe();
      }),
      { numRuns: 250, seed: 424_242 },
    );
  }, 300_000);

  it('random seeds of fast-check find nothing either (500 more mixed runs)', async () => {
    await fc.assert(
      fc.asyncProperty(seed, fc.oneof({ weight: 9, arbitrary: cheapMutations }, { weight: 1, arbitrary: expensiveMutations }), async (start, mutations) => {
        checkLoad(mutate(start, mutations), start.name, `${start.name}: ${describeMutations(mutations)}`);
        await breathe();
      }),
      { numRuns: 500 },
    );
  }, 300_000);
});

describe('pathological files, each pinned to a position', () => {
  const load = (text: string): Problem[] => {
    const loaded = readEnvironmentFile('environments/staging.yaml', text, contracts, NOW);
    expectPositioned(loaded.problems, text, text.slice(0, 60));
    return loaded.problems;
  };
  const messages = (problems: Problem[]): string => problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n');

  it.each([
    ['unclosed [', '['],
    ['closed [', '[]'],
    ['unclosed {', '{a: '],
    ['closed {', '{a: }'],
  ])('10,000 levels of %s is "nesting too deep", not a stack overflow', (_label, unit) => {
    const open = unit === '[]' ? '['.repeat(10_000) + ']'.repeat(10_000) : unit === '{a: }' ? `${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}` : unit.repeat(10_000);
    const problems = load(`version: 1\ndatabase: { embedded: x }\nflags:\n  deep: { value: ${open} }\n`);
    expect(messages(problems)).toMatch(/nesting too deep/);
    expect(messages(problems)).not.toMatch(/call stack/i);
    expect(problems.filter((p) => /nesting too deep/.test(p.message))).toHaveLength(1);
  });

  it('nesting just past the limit is refused with the position of the first too-deep node', () => {
    const problems = load(`version: 1\ndatabase: { embedded: x }\nflags:\n  deep: { value: ${'['.repeat(120)}${']'.repeat(120)} }\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 4, severity: 'error' });
    expect(problems[0].message).toMatch(/nesting too deep: .*more than 100 levels/);
  });

  it('nesting within the limit is fine', () => {
    expect(load(`version: 1\ndatabase: { embedded: x }\nflags:\n  deep: { value: ${'['.repeat(60)}${']'.repeat(60)} }\n`)).toEqual([]);
  });

  it('a billion laughs is refused at the first alias', () => {
    const text = `version: 1\ndatabase: { embedded: x }\n${aliasBomb(10, 10, false)}`;
    const problems = load(text);
    expect(messages(problems)).toMatch(/too many alias expansions/);
    const bomb = problems.find((p) => /alias/.test(p.message))!;
    expect(text.split('\n')[bomb.line - 1]).toContain('*l0');
  });

  it('a few honest aliases are fine', () => {
    const text = 'version: 1\ndatabase: { embedded: x }\nflags:\n  a: { value: &on { enabled: true }, contract: toggle }\n  b: { value: *on, contract: toggle }\n  c: { value: *on, contract: toggle }\n';
    expect(load(text)).toEqual([]);
  });

  it('a 1 MB run of "a.a.a." is scanned in linear time (no regex backtracking) and a long key is quoted short', () => {
    const key = 'a.'.repeat(100_000);
    const problems = load(`version: 1\ndatabase: { embedded: x }\ndescription: ${'a.'.repeat(500_000)}\nflags:\n  "${key}": { value: 1, depends_on: [nope] }\n`);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p.message.length).toBeLessThan(1_000);
  });

  it('invalid UTF-8, NUL and control bytes are read as text, not thrown', () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\ndatabase: { embedded: "x'), Buffer.from([0, 0xff, 0xc3, 0x28, 0x1b]), Buffer.from('" }\n')]);
    const text = decode(bytes);
    expect(() => load(text)).not.toThrow();
  });

  it('an empty file, a lone scalar and a list each say what a file must be', () => {
    for (const text of ['', '42', '- a\n- b\n', '~', '---\n...\n']) {
      const problems = load(text);
      expect(problems.length, JSON.stringify(text)).toBeGreaterThan(0);
      expect(hasErrors(problems)).toBe(true);
    }
  });
});

describe('mutated files through the CLI', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rollout-fuzz-'));
    cpSync(join(REPO_ROOT, 'contracts'), join(root, 'contracts'), { recursive: true });
    cpSync(join(REPO_ROOT, 'environments'), join(root, 'environments'), { recursive: true });
    cpSync(join(REPO_ROOT, 'migrations'), join(root, 'migrations'), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const capture = () => {
    const chunks: string[] = [];
    return { chunks, stream: { write: (s: string) => void chunks.push(s), isTTY: false } };
  };

  it('300 mutated repositories: exit 0 or 1, positioned JSON, no stack trace or internal error', async () => {
    const original = new Map(SEEDS.map((s) => [s.name, s.text]));
    await fc.assert(
      fc.asyncProperty(
        seed,
        fc.oneof({ weight: 4, arbitrary: cheapMutations }, { weight: 1, arbitrary: expensiveMutations }),
        fc.constantFrom('text', 'json', 'github'),
        async (start, mutations, format) => {
          const label = `${start.name}: ${describeMutations(mutations)} (${format})`;
          for (const [name, text] of original) writeFileSync(join(root, 'environments', `${name}.yaml`), text);
          const bytes = mutate(start, mutations);
          writeFileSync(join(root, 'environments', `${start.name}.yaml`), bytes);
          const out = capture();
          const err = capture();
          const code = await runCli(['validate', '--root', root, '--format', format], { stdout: out.stream, stderr: err.stream }, {});
          const stdout = out.chunks.join('');
          const stderr = err.chunks.join('');
          expect([0, 1], `${label}\n${stderr}`).toContain(code);
          expectNoInternals(stdout + stderr, label);
          if (format === 'json') {
            const problems = JSON.parse(stdout) as Problem[];
            const mutated = problems.filter((p) => p.file === `environments/${start.name}.yaml`);
            expectPositioned(mutated, decode(bytes), label);
          }
          if (format === 'github') {
            for (const line of stdout.split('\n').filter(Boolean)) expect(line, label).toMatch(/^::(error|warning) file=[^,]+,line=\d+,col=\d+::/);
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  }, 300_000);
});
