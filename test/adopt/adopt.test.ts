/**
 * Adopting rollout in a repository a team already has, as a new user would: `rollout init`
 * next to a Prisma migrations folder, validate, plan and apply on the embedded environment;
 * then `rollout import` of the flags table of a server database that Prisma migrated, after
 * which the plan shows no changes and the table is under Git.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

const serverUrl = process.env.TEST_DATABASE_URL;
const MIGRATION = '20261101120000_init';
const PRISMA_SQL = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "feature_flags" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT "feature_flags_pkey" PRIMARY KEY ("key")
);
`;

describe('adopting rollout in an existing repository', () => {
  let root: string;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof cli> => cli(['--root', root, ...args], env);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-adopt-'));
    await mkdir(join(root, 'prisma', 'migrations', MIGRATION), { recursive: true });
    await writeFile(join(root, 'prisma', 'migrations', MIGRATION, 'migration.sql'), PRISMA_SQL);
    await writeFile(join(root, 'prisma', 'migrations', 'migration_lock.toml'), 'provider = "postgresql"\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('init writes the repository, pointed at prisma/migrations; validate passes', async () => {
    const init = await run(['init', '--env', 'staging', '--env', 'production']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout.split('\n').filter((l) => l.startsWith('created'))).toEqual([
      'created  rollout.yaml',
      'created  environments/local.yaml',
      'created  environments/staging.yaml',
      'created  environments/production.yaml',
      'created  contracts/toggle.schema.json',
      'created  .gitignore',
      'created  .github/workflows/rollout-pr.yml',
      'created  .github/workflows/rollout-merge.yml',
      'created  .github/workflows/rollout-promote.yml',
      'created  .github/workflows/rollout-health.yml',
    ]);
    expect(init.stdout).toContain('Every environment reads its migrations from prisma/migrations/.');
    for (const name of ['local', 'staging', 'production']) expect(await readFile(join(root, 'environments', `${name}.yaml`), 'utf8')).toContain('directory: prisma/migrations');
    const staging = await readFile(join(root, 'environments/staging.yaml'), 'utf8');
    expect(staging).toContain('url_env: STAGING_DATABASE_URL');
    expect(staging).toContain('readonly_url_env: STAGING_READONLY_DATABASE_URL');
    expect(staging).toContain('promotes_to: production');
    const validate = await run(['validate']);
    expect(validate.stdout).toBe('✓ 3 environment(s) valid: local, production, staging\n');
    expect(validate.code).toBe(0);
  });

  it('plan and apply run on the embedded local environment, then the plan is empty', async () => {
    const plan = await run(['plan', '--env', 'local']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`+ prisma/migrations/${MIGRATION}/migration.sql`);
    const apply = await run(['apply', '--env', 'local']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain(`migrated prisma/migrations/${MIGRATION}/migration.sql`);
    const again = await run(['plan', '--env', 'local']);
    expect(again.stdout).toContain('No changes: live state matches Git.');
  }, 120_000);

  it('a second init changes nothing and says what it skipped', async () => {
    const before = await readFile(join(root, 'environments/staging.yaml'), 'utf8');
    await writeFile(join(root, 'rollout.yaml'), 'version: 1\nladder: { skip: [shadow] }\n');
    const again = await run(['init', '--env', 'staging', '--env', 'production']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('created');
    expect(again.stdout).toContain('skipped  rollout.yaml (it exists; left as it is)');
    expect(again.stdout).toContain('skipped  .github/workflows/rollout-health.yml (it exists; left as it is)');
    expect(await readFile(join(root, 'rollout.yaml'), 'utf8')).toBe('version: 1\nladder: { skip: [shadow] }\n');
    expect(await readFile(join(root, 'environments/staging.yaml'), 'utf8')).toBe(before);
  });

  describe.skipIf(!serverUrl)('import on a server database that Prisma migrated', () => {
    const name = `rollout_adopt_${randomBytes(6).toString('hex')}`;
    let url: string;
    let env: NodeJS.ProcessEnv;
    const query = async (text: string): Promise<Record<string, unknown>[]> => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const result = await client.query<Record<string, unknown>>(text);
        return result.rows;
      } finally {
        await client.end();
      }
    };
    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const target = new URL(serverUrl!);
      target.pathname = `/${name}`;
      url = target.toString();
      env = { STAGING_DATABASE_URL: url };
      // What the team has today: Prisma ran the migration, services read public.feature_flags.
      await query(PRISMA_SQL);
      await query(`INSERT INTO feature_flags (key, value) VALUES
        ('checkout.new_flow', '{"enabled": true}'), ('pricing.limits', '{"max": 5, "ratio": 0.5}'), ('banner.text', '"Welcome"')`);
    });
    afterAll(async () => {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });

    it('imports the table into the file and the ledger; with the history baselined, the next plan shows no changes', async () => {
      const imported = await run(['import', '--env', 'staging', '--table', 'public.feature_flags'], env);
      expect(imported.stderr).toBe('');
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain('staging: imported 3 flag(s) from public.feature_flags into environments/staging.yaml (ledger entry #1):');
      expect(imported.stdout).toContain('+ checkout.new_flow = {"enabled":true}    (suggested contract: toggle)');
      // Prisma applied the migration: the import says how to record that.
      expect(imported.stdout).toContain(`rollout migrate baseline --env staging --version ${MIGRATION.split('_')[0]}`);
      const file = await readFile(join(root, 'environments/staging.yaml'), 'utf8');
      expect(file).toContain('flag_store:\n  table: public.feature_flags');
      expect(file).toContain('  checkout.new_flow:\n    value: { enabled: true }\n    # suggested: contract: toggle');
      // Suggested, not applied.
      expect(file).not.toMatch(/^ {4}contract:/m);

      expect((await run(['migrate', 'baseline', '--env', 'staging', '--version', MIGRATION.split('_')[0]], env)).code).toBe(0);
      const plan = await run(['plan', '--env', 'staging'], env);
      expect(plan.stdout).toContain('No changes: live state matches Git.');
      expect(plan.code).toBe(0);
      expect((await run(['validate'])).code).toBe(0);
      expect(await query("SELECT kind, reason FROM rollout.ledger")).toEqual([{ kind: 'baseline', reason: 'rollout import: 3 flag(s) of public.feature_flags taken as they are into environments/staging.yaml' }]);
    }, 120_000);

    it('from then on the table is under Git: a change outside Git is drift, a change in Git is planned', async () => {
      await query(`UPDATE feature_flags SET value = '"Hello"' WHERE key = 'banner.text'`);
      const drifted = await run(['plan', '--env', 'staging'], env);
      expect(drifted.stdout).toContain('~ banner.text  change');
      expect(drifted.stdout).toContain('drift: live is "Hello", rollout last wrote "Welcome" (changed outside Git)');
      const staging = join(root, 'environments/staging.yaml');
      await writeFile(staging, (await readFile(staging, 'utf8')).replace('value: { enabled: true }', 'value: { enabled: false }'));
      const planned = await run(['plan', '--env', 'staging'], env);
      expect(planned.stdout).toContain('2 flags to change, 1 drifted.');
    }, 60_000);
  });
});
