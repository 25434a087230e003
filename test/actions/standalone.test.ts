/**
 * The bundled entries as GitHub runs them when another repository says
 * `uses: <owner>/rollout/actions/<verb>@<ref>`: the action's files alone, no `npm ci`. Here
 * dist/actions is copied to a folder outside this repository with no node_modules above it,
 * so every module and file the entries need (the SQL parser's WASM, squawk's binary) must
 * come from the copy. They run end to end on the TEST_DATABASE_URL server, with Prism as the
 * GitHub API.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, exampleRepository, runEntry, serverDatabase, startMockGitHub, webhookPayload, type MockGitHub } from './support.ts';

const serverUrl = process.env.TEST_DATABASE_URL;

/** Every folder from `dir` up to the file system's root. */
function ancestors(dir: string): string[] {
  const all = [dir];
  while (dirname(all.at(-1)!) !== all.at(-1)) all.push(dirname(all.at(-1)!));
  return all;
}

describe.skipIf(!serverUrl)('bundled entries copied alone outside the repository', () => {
  let copy: string;
  let dist: string;
  let github: MockGitHub;
  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'rollout-standalone-'));
    dist = join(copy, 'dist', 'actions');
    await cp(join(ROOT, 'dist/actions'), dist, { recursive: true });
    github = await startMockGitHub();
  }, 240_000);
  afterAll(async () => {
    await github?.stop();
    await rm(copy, { recursive: true, force: true });
  });

  it('has no node_modules to fall back on', () => {
    expect(ancestors(dist).filter((dir) => existsSync(join(dir, 'node_modules')))).toEqual([]);
    expect(existsSync(join(dist, 'chunks', 'squawk', 'linux-x64', 'squawk'))).toBe(true);
  });

  it('validate, apply, plan with lint findings of a dangerous migration, apply it, verify, promote, health', async () => {
    const repo = await exampleRepository();
    const staging = await serverDatabase(serverUrl!);
    const production = await serverDatabase(serverUrl!);
    const env = { STAGING_DATABASE_URL: staging.url, PRODUCTION_DATABASE_URL: production.url };
    const run = (verb: string, options: Omit<Parameters<typeof runEntry>[1], 'workspace' | 'dist' | 'apiUrl'>): ReturnType<typeof runEntry> =>
      runEntry(verb, { workspace: repo.root, dist, apiUrl: github.url, ...options, env: { ...env, ...options.env } });
    try {
      const validated = await run('validate', {});
      expect(validated.code, validated.stdout).toBe(0);
      expect(JSON.parse(validated.outputs.environments)).toEqual(['production', 'staging']);

      const first = await run('apply', { inputs: { environment: 'staging', deployment: 'false' } });
      expect(first.code, first.stdout).toBe(0);
      expect(first.outputs.changed).toBe('true');

      // An index built without CONCURRENTLY on a table that is live (created by the apply above).
      await writeFile(join(repo.root, 'migrations', '0003_learning_events_user.sql'), 'CREATE INDEX learning_events_user ON public.learning_events (user_id);\nCREATE INDEX learning_events_policy ON public.learning_events (policy);\n');
      const planned = await run('plan', { inputs: { environment: 'staging' }, event: { name: 'pull_request', payload: webhookPayload('pull_request', 'opened') } });
      expect(planned.code, planned.stdout).toBe(0);
      expect(planned.stderr).toBe('');
      expect(planned.summary).not.toContain('did not run');
      expect(planned.summary).toContain('| `migrations/0003_learning_events_user.sql` | in a transaction | 1 ⛔ |');
      // Both statements in one line, with squawk's own fix.
      expect(planned.summary).toMatch(/- ⛔ `migrations\/0003_learning_events_user.sql` lines 1, 2: \*\*require-concurrent-index-creation\*\*: .+\n {2}Fix: .*concurrently/i);
      expect(github.requests()).toContain('POST /repos/Codertocat/Hello-World/issues/2/comments');

      const applied = await run('apply', { inputs: { environment: 'staging', 'plan-hash': planned.outputs['plan-hash'] }, event: { name: 'push', payload: webhookPayload('push') } });
      expect(applied.code, applied.stdout).toBe(0);
      expect(applied.outputs.changed).toBe('true');
      expect(applied.outputs.verified).toBe('passed');

      // As the reusable workflows pass them: URLs as inputs (secrets[matrix.target.url_env]), no variables.
      const byInput = { STAGING_DATABASE_URL: '', PRODUCTION_DATABASE_URL: '' };
      const verified = await run('verify', { inputs: { environment: 'staging', 'database-url': staging.url }, env: byInput });
      expect(verified.outputs.ok, verified.stdout).toBe('true');

      const promoted = await run('promote', {
        inputs: { from: 'staging', 'database-url': staging.url, 'target-database-url': production.url },
        env: { ...byInput, ROLLOUT_NOW: '2026-12-25T12:00:00Z' },
        event: { name: 'workflow_run', payload: webhookPayload('workflow_run', 'completed') },
      });
      expect(promoted.code, promoted.stdout).toBe(0);
      expect(promoted.outputs.to).toBe('production');

      const health = await run('health', { inputs: { environment: 'staging', 'database-url': staging.url }, env: byInput, event: { name: 'schedule', payload: {} } });
      expect(health.code, health.stdout).toBe(0);
      expect(health.outputs.status).toBe('healthy');
      // A public repository (Prism's example answer to GET /repos/{owner}/{repo}) gets no measurements.
      expect(github.requests()).toContain('GET /repos/Codertocat/Hello-World');
      expect(health.summary).toContain('Measurements are left out: this repository is public');
      expect(health.summary).not.toMatch(/\| SLO burn rate \| critical \| .*0/);
      const detailed = await run('health', { inputs: { environment: 'staging', 'database-url': staging.url, details: 'full', issue: 'false' }, env: byInput, event: { name: 'schedule', payload: {} } });
      expect(detailed.summary).not.toContain('Measurements are left out');
      expect(detailed.summary).toContain('| Monitor | Severity | Measurement | Action |');
      expect(health.stdout).not.toContain(staging.url);
      expect(github.violations()).toEqual([]);
    } finally {
      await staging.dispose();
      await production.dispose();
      await repo.dispose();
    }
  }, 180_000);

  it('plans files the pre-scan classifies without the SQL parser\'s WebAssembly, syntax errors included', async () => {
    // The parser's WASM is most of the plan's start-up; a plan of ordinary files never loads it.
    const bare = join(copy, 'without-parser', 'dist', 'actions');
    await cp(dist, bare, { recursive: true });
    await rm(join(bare, 'chunks', 'libpg-query.wasm'));
    const repo = await exampleRepository();
    const staging = await serverDatabase(serverUrl!);
    const plan = (entries: string): ReturnType<typeof runEntry> => runEntry('plan', { workspace: repo.root, dist: entries, inputs: { environment: 'staging', comment: 'false' }, env: { STAGING_DATABASE_URL: staging.url } });
    try {
      const [withParser, without] = [await plan(dist), await plan(bare)];
      expect(without.code, without.stdout).toBe(0);
      expect(without.stderr).toBe('');
      expect(without.summary).toBe(withParser.summary);
      expect(without.summary).toContain('| `migrations/0001_feature_flags.sql` | in a transaction |');
      await writeFile(join(repo.root, 'migrations', '0009_typo.sql'), 'SELECT 1;\nSELEC 2;\n');
      const broken = await plan(bare);
      expect(broken.code).toBe(1);
      expect(broken.summary).toContain('migrations/0009_typo.sql:2:1: Syntax error: syntax error at or near "SELEC". Fix the SQL; nothing was run.');
    } finally {
      await staging.dispose();
      await repo.dispose();
    }
  }, 60_000);

  it('posts the plan comment through the proxy that http_proxy names, and without one straight to the API', async () => {
    // A CONNECT proxy that sends every tunnel to the mock API, whatever host it names: the API's
    // host does not resolve (nor is it loopback, which @actions/http-client never proxies), so
    // only a request through the proxy can reach it.
    const tunnels: string[] = [];
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const api = new URL(github.url);
      const upstream = connect(Number(api.port), api.hostname, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).on('error', () => undefined);
        client.pipe(upstream).on('error', () => undefined);
      });
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((listening) => proxy.listen(0, '127.0.0.1', listening));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const repo = await exampleRepository();
    const staging = await serverDatabase(serverUrl!);
    const plan = (apiUrl: string, env: Record<string, string>): ReturnType<typeof runEntry> =>
      runEntry('plan', { workspace: repo.root, dist, apiUrl, inputs: { environment: 'staging' }, env: { STAGING_DATABASE_URL: staging.url, ...env }, event: { name: 'pull_request', payload: webhookPayload('pull_request', 'opened') } });
    try {
      const proxied = await plan('http://api.github.invalid', { http_proxy: proxyUrl });
      expect(proxied.code, proxied.stdout + proxied.stderr).toBe(0);
      expect(proxied.outputs['comment-id']).toMatch(/^\d+$/);
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set(['api.github.invalid:80']));
      tunnels.length = 0;
      const direct = await plan(github.url, {});
      expect(direct.code, direct.stdout + direct.stderr).toBe(0);
      expect(direct.outputs['comment-id']).toMatch(/^\d+$/);
      expect(tunnels).toEqual([]);
    } finally {
      await new Promise((closed) => proxy.close(closed));
      await staging.dispose();
      await repo.dispose();
    }
  }, 60_000);

  it('says in the plan summary\'s first lines when the linter cannot run', async () => {
    const repo = await exampleRepository();
    const staging = await serverDatabase(serverUrl!);
    try {
      const planned = await runEntry('plan', { workspace: repo.root, dist, inputs: { environment: 'staging', comment: 'false' }, env: { STAGING_DATABASE_URL: staging.url, ROLLOUT_SQUAWK: join(copy, 'no-such-squawk') } });
      expect(planned.code, planned.stdout).toBe(0);
      const top = planned.summary.split('\n').slice(0, 6).join('\n');
      expect(top).toContain('> [!WARNING]');
      expect(top).toContain('Migration lint did not run: ROLLOUT_SQUAWK names');
      expect(planned.summary).toContain('| not linted |');
    } finally {
      await staging.dispose();
      await repo.dispose();
    }
  }, 60_000);
});
