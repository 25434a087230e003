// What a flag's file must say so that every unit's value is decided: off_value beside a
// rollout (checked like value), segments declared once and named by rollouts.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import { editEnvironmentText } from '../../actions/engine/promote/edit-file.ts';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const TOGGLE = JSON.stringify({ type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' } }, additionalProperties: false });

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rollout-serving-config-'));
  roots.push(root);
  for (const [path, text] of Object.entries({ 'contracts/toggle.schema.json': TOGGLE, ...files })) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const env = (body: string): string => `version: 1\ndatabase:\n  embedded: .rollout/db\n${body}`;
const messages = (root: string): string[] => loadRepository(root).problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.severity}: ${p.message}`);

describe('off_value', () => {
  it('is required beside a rollout, at the rollout key, with the line to add', () => {
    const root = repo({ 'environments/staging.yaml': env('flags:\n  checkout.v2:\n    value: { enabled: true }\n    contract: toggle\n    rollout: { stage: off }\n') });
    expect(messages(root)).toEqual([
      "environments/staging.yaml:8:5 error: flag 'checkout.v2' has a rollout but no off_value: add off_value: { enabled: false } beside value. It is what units outside the rollout get, and what the flag table holds until the flag is full; the contract checks it like value.",
    ]);
  });

  it('is checked against the contract like value, and against the kill-switch shape', () => {
    const root = repo({
      'environments/staging.yaml': env(
        'flags:\n  a:\n    value: { enabled: true }\n    off_value: { enabled: "no" }\n    contract: toggle\n    rollout: { stage: off }\n' +
          '  k:\n    value: { enabled: false }\n    off_value: 0\n    kill_switch: true\n    rollout: { stage: full }\n',
      ),
    });
    const found = messages(root);
    expect(found).toHaveLength(2);
    expect(found[0]).toBe('environments/staging.yaml:7:27 error: flags.a.off_value.enabled must be true or false, not string "no" (contract \'toggle\', contracts/toggle.schema.json).');
    expect(found[1]).toBe("environments/staging.yaml:12:16 error: flag 'k' is a kill switch, so its off_value must be {enabled: true} or {enabled: false}.");
  });

  it('is a warning without a rollout: never served', () => {
    const root = repo({ 'environments/staging.yaml': env('flags:\n  a:\n    value: 1\n    off_value: 0\n') });
    expect(messages(root)).toEqual([
      "environments/staging.yaml:7:5 warning: flag 'a' has no rollout, so every unit gets value and off_value is never served; remove off_value, or add rollout: { stage: off }.",
    ]);
  });

  it('reaches the model', () => {
    const root = repo({ 'environments/staging.yaml': env('flags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: off }\n  b:\n    value: 2\n') });
    const flags = loadRepository(root).files.get('staging')!.environment!.flags;
    expect(flags.get('a')).toMatchObject({ value: 1, offValue: 0, rollout: { stage: 'off' } });
    expect(flags.get('b')).not.toHaveProperty('offValue');
  });
});

describe('segments', () => {
  const settings = 'version: 1\nladder: { canary_steps: [0, 5, 25] }\nsegments:\n  internal: { keys: [user-1, user-2] }\n  eu: { attributes: { region: eu-west } }\n';

  it('are declared in rollout.yaml and per environment; an environment replaces a repository segment of the same name', () => {
    const root = repo({
      'rollout.yaml': settings,
      'environments/staging.yaml': env(
        'segments:\n  internal: { attributes: { team: [staff], level: [1, 2] } }\n  gold: { keys: [acct-9] }\nflags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: dark, segments: [internal, eu] }\n',
      ),
      'environments/production.yaml': env('flags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: dark, segments: [internal] }\n'),
    });
    const loaded = loadRepository(root);
    expect(loaded.problems).toEqual([]);
    const staging = loaded.files.get('staging')!.environment!;
    expect([...staging.segments!.values()]).toEqual([
      { name: 'internal', attributes: { team: ['staff'], level: [1, 2] } },
      { name: 'eu', attributes: { region: ['eu-west'] } },
      { name: 'gold', keys: ['acct-9'] },
    ]);
    expect(staging.flags.get('a')!.rollout).toEqual({ stage: 'dark', segments: ['internal', 'eu'] });
    expect(loaded.files.get('production')!.environment!.segments!.get('internal')).toEqual({ name: 'internal', keys: ['user-1', 'user-2'] });
  });

  it('refuses an unknown segment name at its position, with a did-you-mean and the declared names', () => {
    const root = repo({ 'rollout.yaml': settings, 'environments/staging.yaml': env('flags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: dark, segments: [internl] }\n') });
    expect(messages(root)).toEqual([
      "environments/staging.yaml:8:40 error: flag 'a' names segment 'internl', which is not declared; did you mean 'internal'? Declare it under segments: in this file or in rollout.yaml, e.g. segments: { internl: { keys: [user-1] } }. Declared: eu, internal.",
    ]);
  });

  it('refuses a segment that names nobody, in either file, and keeps the others usable', () => {
    const root = repo({
      'rollout.yaml': `${settings}  nobody: {}\n`,
      'environments/staging.yaml': env('segments:\n  empty: { keys: [] }\nflags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: dark, segments: [internal] }\n'),
    });
    expect(messages(root)).toEqual([
      "environments/staging.yaml:5:10 error: segment 'empty' names no unit: add keys: [user-1, user-2] (targeting keys) and/or attributes: { plan: [enterprise] } (every listed attribute must match).",
      "rollout.yaml:6:11 error: segment 'nobody' names no unit: add keys: [user-1, user-2] (targeting keys) and/or attributes: { plan: [enterprise] } (every listed attribute must match).",
    ]);
  });

  it('lets a canary rung name segments instead of a percent (the ladder\'s 0 step) or beside one', () => {
    const root = repo({
      'rollout.yaml': settings,
      'environments/staging.yaml': env(
        'flags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: canary, segments: [internal] }\n  b:\n    value: 1\n    off_value: 0\n    rollout: { stage: canary, percent: 5, segments: [eu] }\n',
      ),
    });
    const loaded = loadRepository(root);
    expect(loaded.problems).toEqual([]);
    const flags = loaded.files.get('staging')!.environment!.flags;
    expect(flags.get('a')!.rollout).toEqual({ stage: 'canary', percent: 0, segments: ['internal'] });
    expect(flags.get('b')!.rollout).toEqual({ stage: 'canary', percent: 5, segments: ['eu'] });
  });

  it('says what is wrong with a segments-only rung off the ladder, a 0% rung without segments, and dark without segments', () => {
    const root = repo({
      'environments/staging.yaml': env(
        'segments:\n  internal: { keys: [u1] }\nflags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: canary, segments: [internal] }\n' +
          '  b:\n    value: 1\n    off_value: 0\n    rollout: { stage: canary, percent: 0 }\n  c:\n    value: 1\n    off_value: 0\n    rollout: { stage: dark }\n',
      ),
    });
    expect(messages(root)).toEqual([
      expect.stringMatching(/^environments\/staging\.yaml:10:14 error: flag 'a' is at canary 0%, which is not on this repository's ladder .*add 0 to ladder\.canary_steps in rollout\.yaml\.$/),
      "environments/staging.yaml:14:40 error: flag 'b' is at canary 0% with no segments, so no unit gets value; name the units with segments: [name], or raise percent.",
      expect.stringMatching(/^environments\/staging\.yaml:14:40 error: flag 'b' is at canary 0%, which is not on this repository's ladder/),
      "environments/staging.yaml:18:5 warning: flag 'c' is at stage dark with no segments, so no unit gets value (dark serves only the units of its segments); add segments: [internal] to the rollout.",
    ]);
  });

  it('stay on the flag when promotion moves its position', () => {
    const text = 'version: 1\ndatabase:\n  embedded: d\nflags:\n  a:\n    value: 1\n    off_value: 0\n    rollout: { stage: dark, segments: [internal] }\n  b:\n    value: 1\n    off_value: 0\n    rollout:\n      stage: dark\n      segments: [internal]\n';
    const after = editEnvironmentText('environments/production.yaml', text, [
      { kind: 'position', key: 'a', to: { stage: 'canary', percent: 5 } },
      { kind: 'position', key: 'b', to: { stage: 'shadow' } },
    ]);
    expect(after).toContain('    rollout: { stage: canary, percent: 5, segments: [internal] }\n');
    expect(after).toContain('    rollout:\n      stage: shadow\n      segments: [internal]\n');
  });
});
