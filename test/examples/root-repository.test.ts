/**
 * The repository's own environments/ (its seed-001 model, with migrations/, checks/ and
 * contracts/ at the root), tested like the examples: validated, applied on a fresh database,
 * its checks passing, and `rollout health` measuring its monitors on the real views — a
 * burn rate past 2.0 trips safe mode. The files name server URLs (url_env); on the embedded
 * target each becomes an embedded data directory, on the server target a fresh database.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { databaseTargets, EMBEDDED_DIR, type DatabaseTarget, type TestDatabase } from '../support/databases.ts';
import { runIn, type CliRun } from './support.ts';

const ROOT = join(import.meta.dirname, '../..');

interface RootCopy {
  root: string;
  env: NodeJS.ProcessEnv;
  run(args: string[]): Promise<CliRun>;
  dispose(): Promise<void>;
}

async function rootCopy(target: DatabaseTarget): Promise<RootCopy> {
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
  return {
    root,
    env,
    run: (args) => runIn(root, args, env),
    async dispose() {
      await Promise.all(databases.map((db) => db.dispose()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe.each(databaseTargets())('the repository root (environments/, migrations/, checks/) on $name', (target) => {
  let repo: RootCopy;
  beforeAll(async () => {
    repo = await rootCopy(target);
  });
  afterAll(() => repo?.dispose());

  it('validates, and applies staging with every check passing', { timeout: 300_000 }, async () => {
    const validate = await repo.run(['validate']);
    expect(validate.stdout).toContain('✓ 3 environment(s) valid: local, production, staging');
    expect(validate.code).toBe(0);
    const applied = await repo.run(['apply', '--env', 'staging']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    for (const file of (await readdir(join(ROOT, 'migrations'))).sort()) expect(applied.stdout).toContain(`migrated migrations/${file}`);
    expect(applied.stdout).toMatch(/4 check\(s\) on staging: 4 passed/);
    const verify = await repo.run(['verify', '--env', 'staging']);
    expect(verify.code).toBe(0);
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
  });

  it('applies production and local too, with their checks passing', { timeout: 300_000 }, async () => {
    for (const name of ['production', 'local']) {
      const applied = await repo.run(['apply', '--env', name]);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(new RegExp(`(\\d+) check\\(s\\) on ${name}: \\1 passed`));
    }
  });
});
