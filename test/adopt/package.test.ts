/**
 * The npm package as a project that depends on it gets it: `npm pack`, then the tarball
 * installed into an empty folder without development dependencies, then `npx rollout`
 * there: --version, init, validate, and a plan on the embedded database (PGlite, the SQL
 * parser and squawk all found in that folder's node_modules).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_VERSION } from '../../actions/engine/adopt/release.ts';
import { ROOT } from '../actions/support.ts';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

describe('the npm package, installed into an empty folder', () => {
  let work: string;
  let project: string;
  let tarball: string;
  // A clean environment: no CI variables that change npm's behaviour, no path into this repository.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const inProject = (command: string, args: string[]): Promise<{ stdout: string; stderr: string }> => run(command, args, { cwd: project, env, maxBuffer: 16 * 1024 * 1024 });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'rollout-package-'));
    project = join(work, 'app');
    // --ignore-scripts: pack what the build left in dist/ (npm ci ran it); the test must not rebuild the repository.
    const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, info.filename);
    await run('mkdir', [project]);
    await inProject(npm, ['init', '-y']);
    await inProject(npm, ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball]);
  }, 600_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('ships the CLI, not the repository: no tests, sources or action bundles', async () => {
    const listed = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
    expect(listed).toContain('package/bin/rollout.js');
    expect(listed).toContain('package/dist/cli.js');
    expect(listed).toContain('package/contracts/environment.schema.json');
    expect(listed.filter((f) => /^package\/(test|actions|bench|dist\/actions|examples)\//.test(f))).toEqual([]);
    // Only production dependencies were installed: none of the development tools.
    const installed = await readdir(join(project, 'node_modules'));
    expect(installed).toContain('squawk-cli');
    expect(installed).not.toContain('vitest');
    expect(installed).not.toContain('typescript');
  });

  it('npx rollout --version, init, validate and a plan on the embedded database', async () => {
    expect((await inProject(npx, ['rollout', '--version'])).stdout).toBe(`${ROLLOUT_VERSION}\n`);
    const init = await inProject(npx, ['rollout', 'init', '--env', 'staging', '--env', 'production']);
    expect(init.stdout).toContain('created  environments/staging.yaml');
    expect((await inProject(npx, ['rollout', 'validate'])).stdout).toBe('✓ 3 environment(s) valid: local, production, staging\n');
    await run('mkdir', ['-p', join(project, 'migrations')]);
    await run('sh', ['-c', 'printf "CREATE TABLE t (id int);\\nCREATE INDEX t_id ON t (id);\\n" > migrations/0001_t.sql'], { cwd: project });
    const plan = await inProject(npx, ['rollout', 'plan', '--env', 'local']);
    expect(plan.stdout).toContain('+ migrations/0001_t.sql');
    // Lint ran, from the installed squawk-cli.
    expect(plan.stdout).toContain('prefer-bigint-over-int');
    expect(plan.stdout).not.toContain('did not run');
  }, 300_000);
});
