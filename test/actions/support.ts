/**
 * Run the bundled action entries as a runner would: a process with INPUT_* variables, a real
 * webhook payload at GITHUB_EVENT_PATH, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and
 * GITHUB_API_URL at Prism, which mocks the GitHub API from its published OpenAPI description
 * and answers 422 to any request the description does not allow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { expectGolden as expectGoldenFile } from '../support/golden.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const GOLDEN_DIR = join(ROOT, 'test/fixtures/actions');

// ---------------------------------------------------------------- webhook payloads

interface WebhookExamples {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

/** A real payload from @octokit/webhooks-examples: the first example of this event (and action). */
export function webhookPayload(event: string, action?: string): Record<string, unknown> {
  const index = require('@octokit/webhooks-examples/api.github.com/index.json') as WebhookExamples[];
  const found = index.find((e) => e.name === event)?.examples.find((x) => action === undefined || x.action === action);
  if (!found) throw new Error(`no ${event}${action ? `.${action}` : ''} example in @octokit/webhooks-examples`);
  return found;
}

// ---------------------------------------------------------------- Prism

export interface MockGitHub {
  url: string;
  /** "METHOD /path" of each request Prism received, in order. */
  requests(): string[];
  /** Request violations Prism reported (any is a bug in our requests). */
  violations(): string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Prism in mock mode on loopback, validating every request against api.github.com's description. */
export async function startMockGitHub(): Promise<MockGitHub> {
  const spec = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const port = await freePort();
  const bin = join(dirname(require.resolve('@stoplight/prism-cli/package.json')), 'dist', 'index.js');
  const child: ChildProcess = spawn(process.execPath, [bin, 'mock', '--host', '127.0.0.1', '--port', String(port), spec], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=2048' },
  });
  let log = '';
  const append = (chunk: Buffer): void => void (log += chunk.toString('utf8'));
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  await new Promise<void>((ready, fail) => {
    const timer = setInterval(() => {
      if (log.includes('Prism is listening')) {
        clearInterval(timer);
        ready();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      fail(new Error(`Prism exited (${code}) before listening:\n${log.slice(-2000)}`));
    });
  });
  // eslint-disable-next-line no-control-regex -- ANSI colour codes in Prism's log
  const plain = (): string => log.replace(/\u001b\[[0-9;]*m/g, '');
  // Prism does not negotiate GitHub's vendor media type (application/vnd.github.v3+json, which
  // octokit sends), so a loopback relay asks for the plain JSON the description declares. It
  // changes that one header and nothing else; it also records what was asked, in order.
  const seen: string[] = [];
  const requestProblems: string[] = [];
  const relay = createHttpServer((req, res) => {
    seen.push(`${req.method} ${(req.url ?? '').replace(/\?.*$/, '')}`);
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, accept: 'application/json' } }, (answer) => {
      // Prism lists what the request broke in sl-violations. GitHub's own response examples
      // break its schemas in places (so --errors is off); a request violation is ours, and fails.
      const found = requestViolations(answer.headers['sl-violations']);
      if (found.length > 0) {
        requestProblems.push(...found.map((v) => `${req.method} ${req.url}: ${v}`));
        res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ message: found.join('; ') }));
        answer.resume();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  });
  await new Promise<void>((ready) => relay.listen(0, '127.0.0.1', ready));
  const address = relay.address();
  const relayPort = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${relayPort}`,
    requests: () => [...seen],
    violations: () => [...requestProblems, ...plain().split('\n').filter((line) => /Request terminated with error/.test(line))],
    stop: async () => {
      await new Promise<void>((done) => relay.close(() => done()));
      await new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    },
  };
}

function requestViolations(header: string | string[] | undefined): string[] {
  if (typeof header !== 'string') return [];
  const parsed = JSON.parse(header) as Array<{ location?: string[]; severity?: string; message?: string }>;
  return parsed.filter((v) => v.location?.[0] === 'request' && v.severity === 'Error').map((v) => `${v.location?.join('.')}: ${v.message ?? ''}`);
}

// ---------------------------------------------------------------- running an entry

export interface EntryRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** GITHUB_OUTPUT parsed: name → value. */
  outputs: Record<string, string>;
  summary: string;
}

export interface EntryOptions {
  inputs?: Record<string, string>;
  event?: { name: string; payload: Record<string, unknown> };
  workspace: string;
  apiUrl?: string;
  env?: Record<string, string>;
  /** Folder holding the bundled entries (default: ROLLOUT_TEST_ACTIONS_DIST, else the repository's dist/actions). */
  dist?: string;
}

/**
 * The bundles the entry tests run: the committed dist/actions, or a fresh build elsewhere
 * (node scripts/build.mjs --actions-only --outdir DIR) named by ROLLOUT_TEST_ACTIONS_DIST,
 * so that a branch can test new entries without rewriting the committed bundles.
 */
const actionsDist = (): string => process.env.ROLLOUT_TEST_ACTIONS_DIST || join(ROOT, 'dist/actions');

export async function runEntry(verb: string, options: EntryOptions): Promise<EntryRun> {
  const dir = await mkdtemp(join(tmpdir(), `rollout-action-${verb}-`));
  try {
    const output = join(dir, 'output');
    const summary = join(dir, 'summary.md');
    const eventPath = join(dir, 'event.json');
    await writeFile(output, '');
    await writeFile(summary, '');
    await writeFile(eventPath, JSON.stringify(options.event?.payload ?? {}));
    const repository = (options.event?.payload.repository as { full_name?: string } | undefined)?.full_name ?? 'Codertocat/Hello-World';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_REPOSITORY: repository,
      GITHUB_SHA: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_EVENT_NAME: options.event?.name ?? 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9',
      GITHUB_RUN_ID: '1658821493',
      GITHUB_ACTOR: 'Codertocat',
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      // Set on purpose: the actions never read it (they always use the real clock), so it changes nothing.
      ROLLOUT_NOW: '2026-11-25T12:00:00Z',
      ...options.env,
    };
    // Inputs as the runner passes them: defaults from action.yml first, then the step's with:.
    for (const [name, value] of Object.entries({ 'github-token': 'ghs_testtoken000000000000000000000000000', ...options.inputs })) env[`INPUT_${name.toUpperCase()}`] = value;
    const child = spawn(process.execPath, [join(options.dist ?? actionsDist(), `${verb}.js`)], { cwd: options.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await new Promise<number | null>((done) => child.once('close', done));
    return { code, stdout, stderr, outputs: parseOutputFile(await readFile(output, 'utf8')), summary: await readFile(summary, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `name<<DELIMITER\nvalue\nDELIMITER` blocks, as @actions/core writes them. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(pattern)) outputs[m[1]] = m[3]!;
  return outputs;
}

// ---------------------------------------------------------------- golden files

/** Hashes, temp paths, ports and times differ between runs; the rest must not. */
export function normalise(text: string, extra: Record<string, string> = {}): string {
  let out = text;
  for (const [value, label] of Object.entries(extra)) if (value) out = out.split(value).join(label);
  return out
    .replace(/\b[0-9a-f]{64}\b/g, '<hash>')
    .replace(/`[0-9a-f]{12}`/g, '`<hash12>`')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\b\d+(\.\d+)? ?ms\b/g, '<ms>')
    // A run over a second (a loaded machine) prints "1.2 s" where it usually prints milliseconds.
    .replace(/(\| | in )\d+(\.\d+)? s\b/g, '$1<ms>')
    .replace(/\b\d+(\.\d+)?s\b/g, '<s>');
}

export function expectGolden(name: string, actual: string): void {
  expectGoldenFile(join(GOLDEN_DIR, `${name}.golden`), actual);
}

/** Outputs and summary as one golden text. */
export function describeRun(run: EntryRun, extra: Record<string, string> = {}): string {
  const outputs = Object.entries(run.outputs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  return normalise(`# exit code\n${run.code}\n\n# GITHUB_OUTPUT\n${outputs}\n\n# GITHUB_STEP_SUMMARY\n${run.summary}`, extra);
}

// ---------------------------------------------------------------- repositories and databases

/**
 * A small repository in a temp folder (test/fixtures/actions/repo: seed 001's example as it was
 * before it grew the whole guide — two migrations, one check, one monitor — kept frozen so that
 * the action goldens test the actions, not the guide), its environments on database servers
 * named by these variables.
 */
export async function exampleRepository(): Promise<{ root: string; dispose(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'rollout-action-repo-'));
  await cp(join(ROOT, 'test/fixtures/actions/repo'), root, { recursive: true });
  for (const name of ['staging', 'production']) {
    const file = join(root, 'environments', `${name}.yaml`);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/database:\n {2}embedded: \S+/, `database:\n  url_env: ${name.toUpperCase()}_DATABASE_URL`));
  }
  return { root, dispose: () => rm(root, { recursive: true, force: true }) };
}

/** A fresh database on the TEST_DATABASE_URL server; dropped by dispose(). */
export async function serverDatabase(serverUrl: string): Promise<{ url: string; dispose(): Promise<void> }> {
  const name = `rollout_action_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async dispose() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
