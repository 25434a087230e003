// Cold start of the bundled plan entry with migration lint included, as a runner starts it:
// a copy of dist/actions outside the repository (no node_modules), the seed-001 example with
// its migrations pending on a fresh server database, so every run loads the bundle, reads
// the database, checks the migrations and runs the shipped squawk binary. Beside it in the
// same run: bare `node -e 0`, the same entry with lint off (ROLLOUT_SQUAWK pointing nowhere),
// the entry on a pull request posting its comment (to a local stand-in for the GitHub API, in
// a process of its own), and squawk alone on the same files. Goal: the plan entry within 4×
// bare node.
// Needs a Postgres server: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
// Writes the "Plan action cold start" section of bench/RESULTS.md.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.RUNS ?? 15);
const GOAL = 4;
const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const work = mkdtempSync(join(tmpdir(), 'rollout-bench-plan-'));
const dist = join(work, 'action', 'dist', 'actions');
cpSync(join(root, 'dist/actions'), dist, { recursive: true });
const repo = join(work, 'repo');
cpSync(join(root, 'examples/seed-001-day0-cutover'), repo, { recursive: true });
const stagingFile = join(repo, 'environments/staging.yaml');
writeFileSync(stagingFile, readFileSync(stagingFile, 'utf8').replace(/database:\n {2}embedded: \S+/, 'database:\n  url_env: STAGING_DATABASE_URL'));

const name = `rollout_bench_plan_${process.pid}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name}`);
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;

writeFileSync(join(work, 'output'), '');
writeFileSync(join(work, 'summary'), '');
const env = {
  PATH: process.env.PATH,
  GITHUB_WORKSPACE: repo,
  GITHUB_OUTPUT: join(work, 'output'),
  GITHUB_STEP_SUMMARY: join(work, 'summary'),
  GITHUB_EVENT_NAME: 'push',
  'INPUT_GITHUB-TOKEN': 'x',
  INPUT_ENVIRONMENT: 'staging',
  INPUT_COMMENT: 'false',
  STAGING_DATABASE_URL: url.toString(),
};
function time(command, args, extra = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { env: { ...env, ...extra }, cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // squawk exits 1 when it finds something; the entries must succeed.
  if (result.status !== 0 && !(command.endsWith('squawk') && result.status === 1)) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stdout}${result.stderr}`);
  return ms;
}
// The GitHub API for the comment path: no comment yet, so each run lists the PR's comments and creates one.
const api = spawn(process.execPath, ['-e', `
  const server = require('node:http').createServer((req, res) => {
    req.resume().on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET') return res.end('[]');
      res.statusCode = 201;
      res.end(JSON.stringify({ id: 1 }));
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
const apiPort = await new Promise((resolvePort) => api.stdout.once('data', (data) => resolvePort(Number(String(data).trim()))));
writeFileSync(join(work, 'event.json'), JSON.stringify({ number: 2, pull_request: { number: 2, base: { sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821' } } }));
const pullRequest = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: join(work, 'event.json'), GITHUB_REPOSITORY: 'owner/repo', GITHUB_API_URL: `http://127.0.0.1:${apiPort}`, INPUT_COMMENT: 'true' };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const entry = join(dist, 'plan.js');
const squawk = join(dist, 'chunks', 'squawk', 'linux-x64', 'squawk');
const migrations = readdirSync(join(repo, 'migrations')).map((f) => join(repo, 'migrations', f));
time(process.execPath, [entry]); // warm the file cache: a runner reads the checkout it just wrote
if (!readFileSync(join(work, 'summary'), 'utf8').match(/Lint (errors|warnings) \(squawk\)/)) throw new Error('the plan summary has no lint findings: lint did not run');
time(process.execPath, [entry], pullRequest);
if (!/comment-id<<(\S+)\n1\n\1/.test(readFileSync(join(work, 'output'), 'utf8'))) throw new Error('the plan on a pull request posted no comment');
const runs = { bare: [], plan: [], unlinted: [], comment: [], squawk: [] };
for (let i = 0; i < RUNS; i++) {
  runs.bare.push(time(process.execPath, ['-e', '0']));
  runs.plan.push(time(process.execPath, [entry]));
  runs.unlinted.push(time(process.execPath, [entry], { ROLLOUT_SQUAWK: join(work, 'none') }));
  runs.comment.push(time(process.execPath, [entry], pullRequest));
  runs.squawk.push(time(squawk, ['--reporter', 'json', '--assume-in-transaction', ...migrations]));
}
api.kill();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();

const size = (dir) => readdirSync(dir, { recursive: true }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile()).reduce((sum, f) => sum + statSync(f).size, 0);
const total = size(dist);
const squawkBytes = statSync(squawk).size;
rmSync(work, { recursive: true, force: true });

const b = median(runs.bare);
const row = (what, ms) => `| ${what} | ${ms.toFixed(0)} ms | ${(ms / b).toFixed(1)}× |`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ratio = median(runs.plan) / b;
const section = [
  '<!-- actions-plan:start -->',
  '## Plan action cold start, lint included',
  '',
  `\`node bench/actions/plan-cold-start.mjs\` (${new Date().toISOString().slice(0, 10)}): the bundled plan entry run from a copy of \`dist/actions\` outside the repository, on the seed-001 example with its ${migrations.length} migrations pending on a fresh server database (each run reads the database, syntax-checks the files and runs squawk on them), median of ${RUNS} runs, Node ${process.version}, load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores.`,
  '',
  '| what | median | ratio to bare node |',
  '| --- | --- | --- |',
  row('`node -e 0` (bare start)', b),
  row('plan entry, lint included', median(runs.plan)),
  row('plan entry, lint unavailable', median(runs.unlinted)),
  row('plan entry on a pull request, comment posted (local API stand-in)', median(runs.comment)),
  row(`squawk alone on the ${migrations.length} files`, median(runs.squawk)),
  '',
  `Goal: plan entry within ${GOAL}× bare node — ${ratio <= GOAL ? 'met' : 'not met'} on this run (${ratio.toFixed(1)}×).`,
  `Size: \`dist/actions\` is ${mb(total)}, of which the squawk binary (linux-x64) is ${mb(squawkBytes)}; it is stored compressed in Git and in the action's download (about a third of that).`,
  '<!-- actions-plan:end -->',
].join('\n');
const resultsFile = join(root, 'bench/RESULTS.md');
const results = readFileSync(resultsFile, 'utf8');
const start = results.indexOf('<!-- actions-plan:start -->');
const end = results.indexOf('<!-- actions-plan:end -->');
const next = start >= 0 && end >= 0 ? results.slice(0, start) + section + results.slice(end + '<!-- actions-plan:end -->'.length) : `${results.trimEnd()}\n\n${section}\n`;
writeFileSync(resultsFile, next);
console.log(section);
