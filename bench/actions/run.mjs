// Cold start of a bundled action entry: `node dist/actions/validate.js` on the seed-001 example
// (two environments), as the runner starts it, median of RUNS; bare `node -e 0` in the same run
// for scale. Goal: under 300 ms. Writes the "Actions cold start" section of bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.RUNS ?? 15);
const GOAL_MS = 300;
const work = mkdtempSync(join(tmpdir(), 'rollout-bench-actions-'));
cpSync(join(root, 'examples/seed-001-day0-cutover'), join(work, 'repo'), { recursive: true });
writeFileSync(join(work, 'output'), '');
writeFileSync(join(work, 'summary'), '');

const env = { PATH: process.env.PATH, GITHUB_WORKSPACE: join(work, 'repo'), GITHUB_OUTPUT: join(work, 'output'), GITHUB_STEP_SUMMARY: join(work, 'summary'), 'INPUT_GITHUB-TOKEN': 'x' };
function time(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, cwd: join(work, 'repo'), stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const entry = join(root, 'dist/actions/validate.js');
time([entry]); // warm the file cache: a runner reads the checkout from disk it just wrote
const bare = [];
const validate = [];
for (let i = 0; i < RUNS; i++) {
  bare.push(time(['-e', '0']));
  validate.push(time([entry]));
}
rmSync(work, { recursive: true, force: true });

const m = median(validate);
const b = median(bare);
const load = (await import('node:os')).loadavg()[0].toFixed(1);
const section = [
  '<!-- actions:start -->',
  '## Actions cold start',
  '',
  `\`node bench/actions/run.mjs\`: the bundled validate entry (\`dist/actions/validate.js\`) as a process on the seed-001 example, median of ${RUNS} runs, Node ${process.version}, load average ${load} on ${(await import('node:os')).cpus().length} cores.`,
  '',
  '| what | median | ratio to bare node |',
  '| --- | --- | --- |',
  `| \`node -e 0\` (bare start) | ${b.toFixed(0)} ms | 1.0× |`,
  `| validate entry | ${m.toFixed(0)} ms | ${(m / b).toFixed(1)}× |`,
  '',
  `Goal: under ${GOAL_MS} ms — ${m < GOAL_MS ? 'met' : 'not met on this run'}.`,
  '<!-- actions:end -->',
].join('\n');
const resultsFile = join(root, 'bench/RESULTS.md');
const results = readFileSync(resultsFile, 'utf8');
const start = results.indexOf('<!-- actions:start -->');
const end = results.indexOf('<!-- actions:end -->');
const next = start >= 0 && end >= 0 ? results.slice(0, start) + section + results.slice(end + '<!-- actions:end -->'.length) : `${results.trimEnd()}\n\n${section}\n`;
writeFileSync(resultsFile, next);
console.log(section);
