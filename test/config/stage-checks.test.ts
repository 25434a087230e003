import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRepositorySettings, loadRepositorySettings } from '../../actions/engine/config/repository-settings.ts';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import { DEFAULT_LADDER } from '../../actions/engine/stages/ladder.ts';
import { SEED_001_LADDER } from '../../actions/engine/stages/vocabulary.ts';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rollout-stage-checks-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const env = (flags: string, extra = ''): string => `version: 1\ndatabase:\n  embedded: .rollout/db\n${extra}flags:\n${flags}`;
const flag = (key: string, rollout: string): string => `  ${key}:\n    value: { enabled: true }\n    off_value: { enabled: false }\n    rollout: ${rollout}\n`;

describe('rollout.yaml', () => {
  it('is optional: the default ladder applies without it', () => {
    expect(loadRepositorySettings(repo({}))).toEqual({ ladder: DEFAULT_LADDER, segments: new Map(), present: false, problems: [] });
  });

  it("reads seed 001's ladder", () => {
    const settings = readRepositorySettings(
      'version: 1\nladder:\n  canary_steps: [5, 25]\n  skip: [shadow]\n  soak: { dark: 1d, canary: 2d, canary_steps: { "5": 2d, "25": 3d } }\n',
    );
    expect(settings.problems).toEqual([]);
    expect(settings.ladder).toEqual({ ...SEED_001_LADDER, soakMs: { ...SEED_001_LADDER.soakMs, shadow: DEFAULT_LADDER.soakMs.shadow } });
  });

  it('reports every problem with its position', () => {
    const text = 'version: 1\nladder:\n  canary_steps: [5, 50, 25]\n  skip: [canary]\n  soak: { dark: soon }\n  colour: blue\n';
    const { problems, ladder } = readRepositorySettings(text);
    expect(ladder).toBe(DEFAULT_LADDER);
    const at = problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    expect(at).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^4:10 .*ladder\.skip\[0\] is "canary", which is not one of: dark, shadow/),
        expect.stringMatching(/^5:17 .*Invalid ladder\.soak\.dark "soon"\. Expected: A duration/),
        expect.stringMatching(/^6:3 unknown key 'colour' in ladder/),
      ]),
    );
    expect(problems.every((p) => p.file === 'rollout.yaml' && p.severity === 'error')).toBe(true);
  });

  it('refuses steps that do not go up, and per-step soaks of steps that do not exist', () => {
    const { problems } = readRepositorySettings('version: 1\nladder:\n  canary_steps: [5, 50, 25]\n  soak:\n    canary_steps: { "30": 2d }\n');
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      expect.stringMatching(/^3:25 canary_steps must go strictly up: 25 comes after 50/),
      expect.stringMatching(/^5:21 soak\.canary_steps names canary 30%, which is not a canary step; the steps are 5, 50, 25/),
    ]);
  });

  it('is reported by validate (loadRepository), and needs version', () => {
    const root = repo({ 'rollout.yaml': 'ladder: {}\n', 'environments/staging.yaml': env(flag('a', '{ stage: off }')) });
    const { problems } = loadRepository(root);
    expect(problems).toEqual([expect.objectContaining({ file: 'rollout.yaml', line: 1, column: 1, message: expect.stringContaining("missing the required key 'version'") as string })]);
  });
});

describe('stage checks across environments', () => {
  it('warns about a downstream flag ahead of its upstream, at the downstream rollout node, naming both positions', () => {
    const root = repo({
      'environments/staging.yaml': env(flag('checkout.v2', '{ stage: canary, percent: 5 }') + flag('search', '{ stage: full }'), 'promotes_to: production\n'),
      'environments/production.yaml': env(flag('checkout.v2', '{ stage: canary, percent: 25 }') + flag('search', '{ stage: canary, percent: 50 }')),
    });
    const { problems } = loadRepository(root);
    expect(problems).toEqual([
      {
        file: 'environments/production.yaml',
        line: 8,
        column: 14,
        severity: 'warning',
        message: expect.stringMatching(/^flag 'checkout\.v2' is at canary 25% in production but only at canary 5% in staging, which promotes to production; .*apply refuses to move this flag forward in production \(rollbacks, kill switches and other flags still apply\).*move environments\/staging\.yaml first/) as string,
      },
    ]);
  });

  it('accepts a downstream behind or level with its upstream', () => {
    const root = repo({
      'environments/staging.yaml': env(flag('a', '{ stage: canary, percent: 25 }') + flag('b', '{ stage: shadow }'), 'promotes_to: production\n'),
      'environments/production.yaml': env(flag('a', '{ stage: canary, percent: 5 }') + flag('b', '{ stage: shadow }')),
    });
    expect(loadRepository(root).problems).toEqual([]);
  });

  it('refuses positions that are not on the ladder, listing the rungs', () => {
    const root = repo({
      'rollout.yaml': 'version: 1\nladder: { skip: [shadow] }\n',
      'environments/staging.yaml': env(flag('a', '{ stage: canary, percent: 30 }') + flag('b', '{ stage: shadow }')),
    });
    const messages = loadRepository(root).problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    expect(messages).toEqual([
      "8:40 flag 'a' is at canary 30%, which is not on this repository's ladder (off → dark → canary 5% → canary 25% → canary 50% → canary 100% → full); use one of the canary steps (5, 25, 50, 100), or add 30 to ladder.canary_steps in rollout.yaml.",
      expect.stringMatching(/^12:23 flag 'b' is at shadow, which is not on this repository's ladder \(off → dark → canary 5%.*ladder skips shadow/),
    ]);
  });

  it('passes the example repository', () => {
    expect(loadRepository(join(import.meta.dirname, '../..')).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
