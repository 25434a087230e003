/**
 * The fleet part of the environment file (targets, targets_from, target_url_env, waves):
 * every mistake reported at once with its position, and the pure wave assignment, budget and
 * shard rules the engine runs on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRepository } from '../../actions/engine/config/repository.ts';
import type { FleetTarget, WaveSpec } from '../../actions/engine/fleet/model.ts';
import { resolveTargets } from '../../actions/engine/fleet/targets.ts';
import { assignWaves, overBudget, parseShard, shardOf } from '../../actions/engine/fleet/waves.ts';
import { ValidationError } from '../../actions/engine/errors.ts';
import { findUpstream } from '../../actions/engine/plan/upstream.ts';
import { writeRepository } from './support.ts';

describe('fleet keys in the environment file', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-fleet-config-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const problemsOf = async (text: string): Promise<string[]> => {
    await writeRepository(root, { 'environments/tenants.yaml': text });
    return loadRepository(root).problems.map((p) => `${p.line}:${p.column} ${p.severity}: ${p.message}`);
  };

  it('loads a valid fleet into the model, with the naming convention for URL secrets', async () => {
    await writeRepository(root, {
      'environments/tenants.yaml': `version: 1
target_url_env: TENANT_{NAME}_URL
targets:
  - { name: acme, labels: { region: eu } }
  - { name: eu-west.2, url_env: EU_WEST_URL, readonly_url_env: EU_WEST_RO_URL }
  - { name: local, embedded: .rollout/local }
waves:
  - { name: canary, targets: [acme], soak: 30m }
  - { name: tenth, percent: 10, max_failures: 2, max_failure_rate: 0.05 }
`,
    });
    const repository = loadRepository(root);
    expect(repository.problems).toEqual([]);
    const env = repository.files.get('tenants')!.environment!;
    expect(env.database).toEqual({ kind: 'fleet' });
    expect(env.fleet?.source).toEqual({
      kind: 'list',
      targets: [
        { name: 'acme', database: { kind: 'url', urlEnv: 'TENANT_ACME_URL' }, labels: { region: 'eu' } },
        { name: 'eu-west.2', database: { kind: 'url', urlEnv: 'EU_WEST_URL', readonlyUrlEnv: 'EU_WEST_RO_URL' }, labels: {} },
        { name: 'local', database: { kind: 'embedded', dir: '.rollout/local' }, labels: {} },
      ],
    });
    expect(env.fleet?.waves).toEqual([
      { name: 'canary', select: { kind: 'names', names: ['acme'] }, soakMs: 1_800_000, budget: {} },
      { name: 'tenth', select: { kind: 'percent', percent: 10 }, soakMs: 0, budget: { maxFailures: 2, maxFailureRate: 0.05 } },
    ]);
  });

  it('reports every fleet mistake at once, each at its line and column', async () => {
    const problems = await problemsOf(`version: 1
targets:
  - name: acme
    url_env: ACME_URL
  - name: acme
    url_env: ACME2_URL
  - name: globex
  - name: both
    url_env: BOTH_URL
    embedded: .rollout/both
waves:
  - name: canary
    targets: [acmee]
  - name: eu
    labels: { region: eu }
    percent: 10
  - name: all
  - name: canary
    targets: [acme]
    max_failure_rate: 1.5
`);
    expect(problems).toEqual([
      "5:11 error: target 'acme' is listed twice (items 1 and 2); target names are unique in a fleet.",
      "7:5 error: target 'globex' does not say where its database is: add url_env: NAME (the secret holding its URL) or embedded: DIR, or set target_url_env: TENANT_{NAME}_URL at the top of the file to name every target's secret by convention.",
      "10:15 error: target 'both' has both url_env and embedded; a target is one database: keep one.",
      "13:15 error: wave 'canary' names target 'acmee', which is not in targets:; did you mean 'acme'?",
      "16:5 error: wave 'eu' selects by labels and percent; a wave selects by one of targets, labels or percent (or none of them: all the rest). Split it into two waves.",
      "17:5 warning: wave 'all' selects no targets by name, label or percent, so it takes all the rest and the waves after it get none. Make it the last wave, or give it a selector.",
      "18:11 error: wave 'canary' is declared twice (waves 1 and 4); wave names are unique.",
      '20:23 error: waves[3].max_failure_rate must be <= 1, not 1.5.',
    ]);
  });

  it('a missing targets file is reported at targets_from.file', async () => {
    expect(await problemsOf('version: 1\ntargets_from: { file: fleet/none.json }\n')).toEqual([
      '2:23 error: environments/tenants.yaml reads its targets from fleet/none.json (targets_from.file), which does not exist. Create it: a JSON list such as [{"name": "acme", "url_env": "TENANT_ACME_URL"}].',
    ]);
  });

  it('an environment is one database or a fleet, never both, and names one of them', async () => {
    expect(await problemsOf('version: 1\ndatabase: { url_env: X_URL }\ntargets: [{ name: a, url_env: A_URL }]\n')).toEqual([
      '3:1 error: database: and targets: cannot both be set: an environment is one database (database:) or a fleet (targets: or targets_from:). Keep one.',
    ]);
    expect(await problemsOf('version: 1\n')).toEqual([
      '1:1 error: An environment names where its live state is: add database: { url_env: NAME } for one database, or targets: (a list of databases) for a fleet; see docs/fleets.md.',
    ]);
    expect(await problemsOf('version: 1\ndatabase: { url_env: X_URL }\nwaves: [{ name: a }]\n')).toEqual([
      '3:1 error: waves: applies to a fleet only; this environment has one database. Replace database: with targets:, or remove waves:.',
    ]);
    expect(await problemsOf('version: 1\ntargets_from: { query: SELECT 1 }\n')).toEqual(['2:15 error: targets_from must match exactly one of the allowed forms. Expected: Where the fleet\'s targets are listed at run time: a JSON file in the repository, or a query on a control database. Either way each target has name, url_env (or embedded) and labels.']);
  });

  it('a targets file is checked like the file\'s own list, with positions in the JSON', async () => {
    await writeRepository(root, {
      'environments/tenants.yaml': 'version: 1\ntargets_from: { file: fleet/tenants.json }\n',
      'fleet/tenants.json': '[\n  {"name": "acme", "url_env": "ACME_URL", "labels": {"tier": 1}},\n  {"name": "Bad", "url_env": "B_URL"},\n  {"name": "ok", "embedded": ".rollout/ok", "region": "eu"}\n]\n',
    });
    const repository = loadRepository(root);
    // validate reads the file too, and reports the same problems.
    expect(repository.problems.map((p) => `${p.file}:${p.line}:${p.column}`)).toEqual(['fleet/tenants.json:2:62', 'fleet/tenants.json:3:12', 'fleet/tenants.json:4:45']);
    const env = repository.files.get('tenants')!.environment!;
    const error = await resolveTargets(env, env.fleet!, { root, processEnv: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`)).toEqual([
      'fleet/tenants.json:2:62 label tier must be text (quote numbers: "1").',
      "fleet/tenants.json:3:12 Invalid target name 'Bad'. Expected lower-case letters, digits, '.', '-' or '_' (e.g. acme or eu-1).",
      "fleet/tenants.json:4:45 unknown key 'region' in target 3. Allowed: name, url_env, readonly_url_env, embedded, labels.",
    ]);
  });
});

describe('waves', () => {
  const targets: FleetTarget[] = Array.from({ length: 30 }, (_, i) => ({
    name: `t${i}`,
    database: { kind: 'url', urlEnv: `T${i}_URL` },
    labels: { region: i % 3 === 0 ? 'us' : 'eu' },
  }));
  const wave = (name: string, select: WaveSpec['select']): WaveSpec => ({ name, select, soakMs: 0, budget: {} });

  it('select by name, then a share of the rest, then by label; what no wave took is the last wave, rest', () => {
    const waves = assignWaves('prod', targets, [wave('canary', { kind: 'names', names: ['t7'] }), wave('tenth', { kind: 'percent', percent: 10 }), wave('us', { kind: 'labels', labels: { region: 'us' } })]);
    expect(waves.map((w) => [w.name, w.targets.length])).toEqual([['canary', 1], ['tenth', 3], ['us', 10 - (waves[1].targets.filter((t) => t.labels.region === 'us').length)], ['rest', 0 + 30 - 1 - 3 - waves[2].targets.length]]);
    const all = waves.flatMap((w) => w.targets.map((t) => t.name));
    expect(new Set(all).size).toBe(30);
    expect(waves[0].targets.map((t) => t.name)).toEqual(['t7']);
    expect(waves[2].targets.every((t) => t.labels.region === 'us')).toBe(true);
  });

  it('a percentage is stable: adding a target does not reshuffle the ones already chosen', () => {
    const before = assignWaves('prod', targets, [wave('half', { kind: 'percent', percent: 50 })])[0].targets.map((t) => t.name);
    const more = [...targets, ...Array.from({ length: 2 }, (_, i): FleetTarget => ({ name: `new${i}`, database: { kind: 'url', urlEnv: 'N_URL' }, labels: {} }))];
    const after = assignWaves('prod', more, [wave('half', { kind: 'percent', percent: 50 })])[0].targets.map((t) => t.name);
    expect(after).toHaveLength(16);
    expect(before.filter((name) => after.includes(name)).length).toBeGreaterThanOrEqual(14);
  });

  it('without waves the fleet is one wave', () => {
    expect(assignWaves('prod', targets, []).map((w) => [w.name, w.targets.length])).toEqual([['rest', 30]]);
  });

  it('a budget: no failures by default; a count, a rate, or both (either one spent stops)', () => {
    expect(overBudget({}, 0, 10)).toBe(false);
    expect(overBudget({}, 1, 10)).toBe(true);
    expect(overBudget({ maxFailures: 2 }, 2, 10)).toBe(false);
    expect(overBudget({ maxFailures: 2 }, 3, 10)).toBe(true);
    expect(overBudget({ maxFailureRate: 0.1 }, 1, 10)).toBe(false);
    expect(overBudget({ maxFailureRate: 0.1 }, 2, 10)).toBe(true);
    expect(overBudget({ maxFailures: 5, maxFailureRate: 0.1 }, 2, 10)).toBe(true);
  });

  it('shards: i/n, every n-th target, sizes within one of each other', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['0/3', '4/3', '1/0', 'x', '1/']) expect(() => parseShard(bad)).toThrow(/Invalid shard/);
    const parts = [1, 2, 3].map((index) => shardOf(targets, { index, count: 3 }).map((t) => t.name));
    expect(parts.map((p) => p.length)).toEqual([10, 10, 10]);
    expect(new Set(parts.flat()).size).toBe(30);
    expect(shardOf(targets.slice(0, 7), { index: 3, count: 3 }).map((t) => t.name)).toEqual(['t2', 't5']);
  });
});

describe('promotes_to naming several environments', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-fleet-promote-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('staging → prod-eu and prod-us: each downstream finds its upstream; every name is checked, at its item', async () => {
    await writeRepository(root, {
      'environments/staging.yaml': 'version: 1\ndatabase: { url_env: STAGING_URL }\npromotes_to: [prod-eu, prod-us, prod-ap]\nflags:\n  a.b: { value: true }\n',
      'environments/prod-eu.yaml': 'version: 1\ntargets: [{ name: eu-1, url_env: EU1_URL }]\nflags:\n  a.b: { value: true }\n',
      'environments/prod-us.yaml': 'version: 1\ndatabase: { url_env: US_URL }\nflags:\n  a.b: { value: true }\n  only.here: { value: 1 }\n',
    });
    const repository = loadRepository(root);
    expect(repository.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`)).toEqual([
      "environments/prod-us.yaml:5:3 flag 'only.here' is in prod-us but not in staging, which promotes to prod-us. Add it to environments/staging.yaml first; it reaches prod-us by promotion.",
      "environments/staging.yaml:3:33 promotes_to names 'prod-ap', but there is no environments/prod-ap.yaml; did you mean 'prod-eu'?",
    ]);
    for (const name of ['prod-eu', 'prod-us']) expect(findUpstream(root, repository.files.get(name)!.environment!, repository)?.name).toBe('staging');
    expect(repository.files.get('staging')!.environment).toMatchObject({ promotesTo: 'prod-eu', promotesToAll: ['prod-eu', 'prod-us', 'prod-ap'] });
  });

  it('a cycle through the second name of a list is a cycle', async () => {
    await writeRepository(root, {
      'environments/a.yaml': 'version: 1\ndatabase: { url_env: A_URL }\npromotes_to: [c, b]\n',
      'environments/b.yaml': 'version: 1\ndatabase: { url_env: B_URL }\npromotes_to: a\n',
      'environments/c.yaml': 'version: 1\ndatabase: { url_env: C_URL }\n',
    });
    expect(loadRepository(root).problems.map((p) => p.message)).toEqual([
      'promotion cycle: a → b → a. Promotion runs one way (e.g. staging → production): remove promotes_to from whichever of a, b should come last.',
      'promotion cycle: a → b → a. Promotion runs one way (e.g. staging → production): remove promotes_to from whichever of a, b should come last.',
    ]);
  });
});
