/** `rollout init`: the caller workflows it writes, where they go, and what it refuses. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROLLOUT_REPOSITORY, ROLLOUT_TAG, ROLLOUT_VERSION } from '../../actions/engine/adopt/release.ts';
import { ROOT } from '../actions/support.ts';
import { actionlint, parseWorkflow, type Job } from '../actions/workflow-rules.ts';
import { cli } from '../support/cli.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rollout-init-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const WORKFLOWS = ['rollout-pr.yml', 'rollout-merge.yml', 'rollout-promote.yml', 'rollout-health.yml'];
const rank: Record<string, number> = { none: 0, read: 1, write: 2 };

describe('the caller workflows init writes', () => {
  beforeEach(async () => {
    expect((await cli(['--root', root, 'init', '--env', 'staging', '--env', 'production'])).code).toBe(0);
  });

  it.each(WORKFLOWS)('%s passes actionlint', async (file) => {
    const text = await readFile(join(root, '.github/workflows', file), 'utf8');
    expect(await actionlint(text, `.github/workflows/${file}`)).toEqual([]);
  });

  it.each(WORKFLOWS)('%s calls the reusable workflow of this release, with its actions, and grants what its jobs need', async (file) => {
    const caller = parseWorkflow(await readFile(join(root, '.github/workflows', file), 'utf8'));
    expect(caller.permissions).toEqual({ contents: 'read' });
    const [job, ...others] = Object.values(caller.jobs);
    expect(others).toEqual([]);
    expect(job.uses).toBe(`${ROLLOUT_REPOSITORY}/.github/workflows/${file}@${ROLLOUT_TAG}`);
    expect(ROLLOUT_TAG).toBe(`v${ROLLOUT_VERSION}`);
    expect(job.with).toMatchObject({ 'actions-repository': ROLLOUT_REPOSITORY, 'actions-ref': ROLLOUT_TAG });
    expect(job.secrets).toBe('inherit');
    // The workflow it calls is this repository's: every input it passes exists there, every permission is granted.
    const reusable = parseWorkflow(readFileSync(join(ROOT, '.github/workflows', file), 'utf8'));
    for (const input of Object.keys(job.with ?? {})) expect(Object.keys(reusable.on.workflow_call?.inputs ?? {})).toContain(input);
    const granted = (job.permissions ?? {}) as Record<string, string>;
    for (const [name, called] of Object.entries<Job>(reusable.jobs)) {
      for (const [scope, level] of Object.entries((called.permissions ?? {}) as Record<string, string>)) {
        expect(rank[granted[scope] ?? 'none'], `${file} grants ${scope}: ${level} for job ${name}`).toBeGreaterThanOrEqual(rank[level]);
      }
    }
  });

  it('merge reviews production; health offers the environments and refuses break-glass until logins are listed', async () => {
    const merge = parseWorkflow(await readFile(join(root, '.github/workflows/rollout-merge.yml'), 'utf8'));
    expect(Object.values(merge.jobs)[0].with?.['production-environment']).toBe('production');
    const health = parseWorkflow(await readFile(join(root, '.github/workflows/rollout-health.yml'), 'utf8'));
    const dispatch = health.on.workflow_dispatch as { inputs: { environment: { options: string[]; default: string } } };
    expect(dispatch.inputs.environment).toMatchObject({ options: ['staging', 'production'], default: 'production' });
    expect(Object.values(health.jobs)[0].with?.['break-glass-actors']).toBe('[]');
  });
});

describe('init', () => {
  it('puts the workflows at the top of the Git repository when rollout lives in a subfolder', async () => {
    execFileSync('git', ['init', '-q', '-b', 'trunk'], { cwd: root });
    const sub = join(root, 'services', 'api');
    await mkdir(sub, { recursive: true });
    const run = await cli(['--root', sub, 'init', '--env', 'staging']);
    expect(run.code).toBe(0);
    const pr = await readFile(join(root, '.github/workflows/rollout-pr.yml'), 'utf8');
    expect(pr).toContain('      root: services/api\n');
    expect(pr).toContain('"services/api/environments/**"');
    expect(await readFile(join(root, '.github/workflows/rollout-merge.yml'), 'utf8')).toContain('branches: [trunk]');
    expect(existsSync(join(sub, '.github'))).toBe(false);
    expect((await cli(['--root', sub, 'validate'])).code).toBe(0);
  });

  it('without server environments writes local only, no workflows, and an empty migrations folder', async () => {
    const run = await cli(['--root', root, 'init']);
    expect(run.code).toBe(0);
    expect(existsSync(join(root, '.github'))).toBe(false);
    expect(existsSync(join(root, 'migrations/.gitkeep'))).toBe(true);
    expect(await readFile(join(root, 'environments/local.yaml'), 'utf8')).not.toContain('directory:');
    expect((await cli(['--root', root, 'validate'])).stdout).toBe('✓ 1 environment(s) valid: local\n');
  });

  /** Write files under root: { 'packages/db/prisma/migrations/…/migration.sql': '…' }. */
  async function files(tree: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(tree)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
  }
  const MIGRATION = 'CREATE TABLE "User" (id integer PRIMARY KEY);\n';
  const LOCK = 'provider = "postgresql"\n';

  it("in a monorepo, finds the one package's Prisma folder (not a library's in node_modules) and points every environment and the PR workflow at it", async () => {
    await files({
      'packages/prisma/migrations/20230404095503_init/migration.sql': MIGRATION,
      'packages/prisma/migrations/migration_lock.toml': LOCK,
      'node_modules/some-lib/prisma/migrations/1_x/migration.sql': MIGRATION,
      'apps/web/src/migrations/readme.txt': 'a bare migrations/ below the root is not a history\n',
    });
    const run = await cli(['--root', root, 'init', '--env', 'staging']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Every environment reads its migrations from packages/prisma/migrations/.');
    for (const env of ['local', 'staging']) {
      expect(await readFile(join(root, `environments/${env}.yaml`), 'utf8')).toContain('  directory: packages/prisma/migrations   # found here by rollout init\n');
    }
    expect(existsSync(join(root, 'migrations'))).toBe(false);
    expect(await readFile(join(root, '.github/workflows/rollout-pr.yml'), 'utf8')).toContain('"packages/prisma/migrations/**"');
    expect((await cli(['--root', root, 'validate'])).code).toBe(0);
  });

  it("finds a dbmate or golang-migrate history in database/migrations, but not Laravel's PHP migrations there", async () => {
    await files({ 'database/migrations/20211026204222_create_schema.sql': '-- migrate:up\nCREATE SCHEMA app;\n-- migrate:down\nDROP SCHEMA app;\n' });
    const run = await cli(['--root', root, 'init', '--no-workflows']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Every environment reads its migrations from database/migrations/.');
    expect(await readFile(join(root, 'environments/local.yaml'), 'utf8')).toContain('  directory: database/migrations   # found here by rollout init\n');
    expect(existsSync(join(root, 'migrations'))).toBe(false);

    const laravel = await mkdtemp(join(tmpdir(), 'rollout-init-laravel-'));
    try {
      await mkdir(join(laravel, 'database/migrations'), { recursive: true });
      await writeFile(join(laravel, 'database/migrations/2014_10_12_000000_create_users_table.php'), '<?php\n');
      expect((await cli(['--root', laravel, 'init', '--no-workflows'])).code).toBe(0);
      expect(await readFile(join(laravel, 'environments/local.yaml'), 'utf8')).not.toContain('database/migrations');
    } finally {
      await rm(laravel, { recursive: true, force: true });
    }
  });

  it('knows a Prisma folder of any name by its migration_lock.toml', async () => {
    await files({ 'packages/db/schema-migrations/migration_lock.toml': LOCK, 'packages/db/schema-migrations/20240101000000_init/migration.sql': MIGRATION });
    const run = await cli(['--root', root, 'init', '--no-workflows']);
    expect(run.code).toBe(0);
    expect(await readFile(join(root, 'environments/local.yaml'), 'utf8')).toContain('  directory: packages/db/schema-migrations   # found here by rollout init\n');
  });

  it('with two packages that each have a history, asks which one instead of guessing, before writing anything', async () => {
    await files({ 'apps/api/prisma/migrations/1_init/migration.sql': MIGRATION, 'apps/jobs/supabase/migrations/20240101000000_init.sql': MIGRATION });
    const run = await cli(['--root', root, 'init']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'Found several migration folders: apps/api/prisma/migrations, apps/jobs/supabase/migrations. Say which one the environments read, e.g. rollout init --migrations apps/api/prisma/migrations',
    );
    expect(existsSync(join(root, 'rollout.yaml'))).toBe(false);
    // A folder at the root is the repository's own: it wins without a question.
    await files({ 'prisma/migrations/1_init/migration.sql': MIGRATION });
    expect((await cli(['--root', root, 'init', '--no-workflows'])).code).toBe(0);
    expect(await readFile(join(root, 'environments/local.yaml'), 'utf8')).toContain('  directory: prisma/migrations   # found here by rollout init\n');
  });

  it('refuses names that cannot be environments, before writing anything', async () => {
    for (const [args, message] of [
      [['--env', 'Staging'], "Invalid environment name 'Staging'"],
      [['--env', 'local'], "'local' is the embedded environment init always writes"],
      [['--env', 'staging', '--env', 'staging'], "Environment 'staging' is named twice"],
    ] as const) {
      const run = await cli(['--root', root, 'init', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
    }
    expect(existsSync(join(root, 'rollout.yaml'))).toBe(false);
  });

  it('prints its version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${ROLLOUT_VERSION}\n`, stderr: '' });
  });
});
