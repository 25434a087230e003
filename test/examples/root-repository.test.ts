/**
 * The repository's own environments/ (its seed-001 model, with migrations/, checks/ and
 * contracts/ at the root), tested like the examples: validated, planned, applied on a fresh
 * database with its checks passing, walked (production's canary raised after its soak and
 * rolled back at once) while asserting what a unit sees through the provider's evaluator and
 * through rollout.evaluate, and `rollout health` measuring its monitors on the real views — a
 * burn rate past 2.0 trips safe mode. The files name server URLs (url_env); on the embedded
 * target each becomes an embedded data directory, on the server target a fresh database.
 */
import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../actions/engine/plan/types.ts';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { databaseTargets, EMBEDDED_DIR, type DatabaseTarget, type TestDatabase } from '../support/databases.ts';
import { readServing, servedValueInSql, unitIds } from './serving.ts';
import { days, later, repoHandle, setRollout, type ExampleRepo } from './support.ts';

const ROOT = join(import.meta.dirname, '../..');

/** A copy of the root's desired state, shaped as the examples' fixtures are (support.ts), so the same readers apply. */
async function rootCopy(target: DatabaseTarget): Promise<ExampleRepo> {
  const root = await mkdtemp(join(tmpdir(), 'rollout-root-'));
  for (const entry of ['environments', 'contracts', 'migrations', 'checks']) await cp(join(ROOT, entry), join(root, entry), { recursive: true });
  const databases: TestDatabase[] = [];
  const env: NodeJS.ProcessEnv = {};
  for (const file of (await readdir(join(root, 'environments'))).filter((f) => f.endsWith('.yaml'))) {
    const path = join(root, 'environments', file);
    let text = await readFile(path, 'utf8');
    const name = file.replace(/\.yaml$/, '');
    const db = await target.create();
    databases.push(db);
    const urlEnv = /^( *)url_env: *([A-Z0-9_]+)/m.exec(text);
    const embedded = /^( *)embedded: *([^\s#]+)/m.exec(text);
    if (db.url) {
      if (urlEnv) env[urlEnv[2]] = db.url;
      else if (embedded) {
        env[`ROOT_TEST_${name.toUpperCase()}_URL`] = db.url;
        text = text.replace(embedded[0], `${embedded[1]}url_env: ROOT_TEST_${name.toUpperCase()}_URL`);
      }
    } else {
      const dir = embedded ? embedded[2] : `.rollout/${name}`;
      if (urlEnv) text = text.replace(urlEnv[0], `${urlEnv[1]}embedded: ${dir}`).replace(/^ *readonly_url_env: .*\n/m, '');
      await cp(join(db.root, EMBEDDED_DIR), join(root, dir), { recursive: true });
    }
    await writeFile(path, text);
  }
  return repoHandle(root, env, databases);
}

const POLICY = 'ranker.policy';
const VALUE = { version: 'epsilon_greedy_v1', epsilon: 0.08 };
const OFF_VALUE = { version: 'epsilon_greedy_v1', epsilon: 0 };
/** A staff member (the environments' `internal` segment: team staff) and 1,000 ordinary users. */
const STAFF = { targetingKey: 'staff-7', team: 'staff' };
const USERS = unitIds(1_000);

describe.each(databaseTargets())('the repository root (environments/, migrations/, checks/) on $name', (target) => {
  let repo: ExampleRepo;
  beforeAll(async () => {
    repo = await rootCopy(target);
  });
  afterAll(() => repo?.dispose());

  /** Run `fn` with a repo whose queries share one connection to `environment`'s database (one open of an embedded one, not one per query). */
  const connected = async <T>(environment: string, fn: (shared: ExampleRepo) => Promise<T>): Promise<T> => {
    const db = await openDatabase(loadEnvironment(repo.root, environment).environment, { root: repo.root, processEnv: repo.env });
    try {
      const client = await db.connect();
      return await fn({ ...repo, query: async <R extends pg.QueryResultRow>(_: string, text: string, params: unknown[] = []) => (await client.query<R>(text, params)).rows });
    } finally {
      await db.close();
    }
  };
  /** What units see of each of `keys` in `environment`: the provider's evaluator and rollout.evaluate agree on every user and on staff. */
  const served = (environment: string, ...keys: string[]) =>
    connected(environment, async (shared) => {
      const serving = await readServing(shared, environment);
      const seen = [];
      for (const key of keys) {
        const on = serving.servedValue(key, USERS, { team: 'member' });
        expect(await servedValueInSql(shared, environment, key, USERS, { team: 'member' })).toEqual(on);
        const staff = serving.see(key, STAFF);
        expect(await servedValueInSql(shared, environment, key, [STAFF.targetingKey], { team: 'staff' })).toEqual(staff.variant === 'on' ? [STAFF.targetingKey] : []);
        seen.push({ on, staff, user: serving.see(key, { targetingKey: 'user-1', team: 'member' }), plain: serving.plain(key) });
      }
      return seen;
    });
  const planOf = async (environment: string, now?: Date) => {
    const run = await repo.run(['plan', '--env', environment, '--format', 'json'], now ? { now } : {});
    return { code: run.code, plan: JSON.parse(run.stdout) as Plan };
  };

  it('validates, plans and applies staging with every check passing; each unit gets what its stage allows', { timeout: 300_000 }, async () => {
    const validate = await repo.run(['validate']);
    expect(validate.stdout).toContain('✓ 3 environment(s) valid: local, production, staging');
    expect(validate.stdout).not.toMatch(/warning/i);
    expect(validate.code).toBe(0);

    const { code, plan } = await planOf('staging');
    expect(code, JSON.stringify(plan.summary)).toBe(0);
    expect(plan.summary).toMatchObject({ add: 5, change: 0, remove: 0, migrations: (await readdir(join(ROOT, 'migrations'))).length, blocked: false, refused: 0 });

    const applied = await repo.run(['apply', '--env', 'staging']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    for (const file of (await readdir(join(ROOT, 'migrations'))).sort()) expect(applied.stdout).toContain(`migrated migrations/${file}`);
    expect(applied.stdout).toMatch(/4 check\(s\) on staging: 4 passed/);
    const verify = await repo.run(['verify', '--env', 'staging']);
    expect(verify.code).toBe(0);
    expect((await planOf('staging')).plan.flags).toEqual([]);

    // ranker.policy at canary 25 %: about a quarter of users; a plain read sees the off value. Its
    // rollout names no segment (unlike examples/seed-001's), so staff are bucketed like anyone.
    const [policy, crush, suggest, safeMode] = await served('staging', POLICY, 'crush_mode.enabled', 'marketplace.suggest', 'global.safe_mode');
    expect(policy.staff.segment).toBeUndefined();
    expect(policy.staff.value).toEqual(policy.staff.variant === 'on' ? VALUE : OFF_VALUE);
    expect(policy.on.length / USERS.length).toBeGreaterThan(0.21);
    expect(policy.on.length / USERS.length).toBeLessThan(0.29);
    expect(policy.plain).toEqual(OFF_VALUE);
    // crush_mode.enabled at dark: the internal segment only.
    expect(crush.staff).toMatchObject({ variant: 'on', segment: 'internal' });
    expect(crush.on).toEqual([]);
    // Full and plain flags: everyone, and the plain read agrees.
    expect(suggest.on).toHaveLength(USERS.length);
    expect(suggest.plain).toEqual({ enabled: true });
    expect(safeMode.user.value).toEqual({ enabled: false });
  });

  it('plans and applies production behind staging; its canary is raised after the soak and rolled back at once', { timeout: 300_000 }, async () => {
    const first = await planOf('production');
    expect(first.code, JSON.stringify(first.plan.summary)).toBe(0);
    expect(first.plan.summary).toMatchObject({ add: 5, refused: 0 });
    const applied = await repo.run(['apply', '--env', 'production']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/1 check\(s\) on production: 1 passed/);
    const [five] = await served('production', POLICY);
    expect(five.on.length / USERS.length).toBeGreaterThan(0.03);
    expect(five.on.length / USERS.length).toBeLessThan(0.07);
    // Bucketing is stable: every unit in the 5 % canary is in staging's 25 %.
    const [staging] = await served('staging', POLICY);
    expect(five.on.filter((unit) => !staging.on.includes(unit))).toEqual([]);

    // The promotion production's PR would carry: 5 % → 25 %, refused before the day's soak, allowed after it.
    await repo.edit('production', (text) => setRollout(text, POLICY, { stage: 'canary', percent: 25 }));
    const early = await planOf('production');
    expect(early.code).toBe(1);
    expect(early.plan.flags.find((f) => f.key === POLICY)?.gate).toMatchObject({ allowed: false, kind: 'forward' });
    const soaked = later(days(1) + 3_600_000);
    expect((await planOf('production', soaked)).plan.summary).toMatchObject({ change: 1, refused: 0 });
    const raised = await repo.run(['apply', '--env', 'production'], { now: soaked });
    expect(raised.code, raised.stdout + raised.stderr).toBe(0);
    const [quarter] = await served('production', POLICY);
    expect(quarter.on).toEqual(staging.on);
    expect(quarter.plain).toEqual(OFF_VALUE);

    // "Rollback: reduce percent": never gated, at once, and the units that got the value lose it.
    await repo.edit('production', (text) => setRollout(text, POLICY, { stage: 'canary', percent: 5 }));
    const back = await planOf('production');
    expect(back.plan.flags.find((f) => f.key === POLICY)?.gate).toMatchObject({ allowed: true, kind: 'rollback' });
    expect((await repo.run(['apply', '--env', 'production'])).code).toBe(0);
    expect((await served('production', POLICY))[0].on).toEqual(five.on);
    const kinds = await repo.query<{ kind: string }>('production', 'SELECT kind FROM rollout.ledger ORDER BY id');
    expect(kinds.map((k) => k.kind)).toEqual(['apply', 'apply', 'apply']);
  });

  it('health measures the monitors on the real views: unknown without traffic, healthy with it, a burn rate past 2.0 trips safe mode', { timeout: 300_000 }, async () => {
    const health = async () => {
      const run = await repo.run(['health', '--env', 'staging', '--format', 'json']);
      return { code: run.code, results: (JSON.parse(run.stdout) as { results: { name: string; status: string; value?: number }[] }).results };
    };
    const blind = await health();
    expect(blind.code).toBe(3);
    expect(blind.results.map((r) => [r.name, r.status])).toEqual([
      ['discovery queue p95 age', 'unknown'],
      ['SLO burn rate', 'unknown'],
    ]);

    const sql = async (text: string) => {
      const db = await openDatabase(loadEnvironment(repo.root, 'staging').environment, { root: repo.root, processEnv: repo.env });
      try {
        const client = await db.connect();
        await client.query(text);
      } finally {
        await db.close();
      }
    };
    await sql(`INSERT INTO public.marketplace_discovery_queue (interest_id, status) VALUES ('11111111-1111-1111-1111-111111111111', 'queued');
               INSERT INTO public.request_log (path, ok, latency_ms) SELECT 'feed', g > 1, 40 FROM generate_series(1, 1000) g`);
    const healthy = await health();
    expect(healthy.results.map((r) => [r.name, r.status, r.value])).toEqual([
      ['discovery queue p95 age', 'healthy', expect.any(Number)],
      ['SLO burn rate', 'healthy', 1],
    ]);
    expect(healthy.code).toBe(0);

    await sql("UPDATE public.request_log SET ok = false WHERE latency_ms = 40 AND ctid IN (SELECT ctid FROM public.request_log LIMIT 5)");
    const breach = await health();
    expect(breach.code).toBe(1);
    expect(breach.results[1]).toMatchObject({ name: 'SLO burn rate', status: 'breach' });
    const status = await repo.run(['status', '--env', 'staging']);
    expect(status.stdout).toMatch(/global\.safe_mode/);
    const plan = await repo.run(['plan', '--env', 'staging']);
    expect(plan.stdout).toMatch(/global\.safe_mode.*break-glass/);
    // Every unit is in safe mode at once, whatever a flag's stage: what rollout.evaluate and the provider serve.
    const [safeMode] = await served('staging', 'global.safe_mode');
    expect(safeMode.user).toMatchObject({ value: { enabled: true } });
    expect(safeMode.staff).toMatchObject({ value: { enabled: true } });
  });

  it('applies local too, with its checks passing', { timeout: 300_000 }, async () => {
    const applied = await repo.run(['apply', '--env', 'local']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/(\d+) check\(s\) on local: \1 passed/);
  });
});
