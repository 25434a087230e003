// Benchmark: rollout plan and apply on a real Postgres server, beside psql doing the
// same flag writes by hand (the checklist way: one UPSERT per flag in one transaction).
//   node bench/plan/run.mjs [--runs 5] [--url postgres://postgres@127.0.0.1:5432/test]
// Writes the "Plan and apply" section of bench/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(option('--runs', '5'));
const ADMIN_URL = option('--url', process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const repoRoot = new URL('../..', import.meta.url).pathname;
const CLI = join(repoRoot, 'bin/rollout.js');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function freshDatabase(name) {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function flagsYaml(count, changedGeneration) {
  const lines = ['flags:'];
  for (let i = 0; i < count; i++) {
    // The first 1,000 flags (or 10%) differ between generations: that is the change set.
    const generation = i < Math.min(1000, count / 10) ? changedGeneration : 0;
    lines.push(`  feature.f${i}:`, `    value: { enabled: ${i % 2 === 0}, variant: v${generation}, weight: ${(i % 100) / 100} }`, '    contract: variant');
  }
  return lines.join('\n');
}

function writeRepo(dir, count, generation) {
  writeFileSync(
    join(dir, 'environments/bench.yaml'),
    `version: 1\ndatabase:\n  url_env: BENCH_DATABASE_URL\nmigrations:\n  advisory_lock: { mode: fail }\n${flagsYaml(count, generation)}\n`,
  );
}

function makeRepo(count, migrations) {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-plan-'));
  mkdirSync(join(dir, 'environments'));
  mkdirSync(join(dir, 'contracts'));
  mkdirSync(join(dir, 'migrations'));
  writeFileSync(
    join(dir, 'contracts/variant.schema.json'),
    JSON.stringify({ type: 'object', required: ['enabled', 'variant'], additionalProperties: false, properties: { enabled: { type: 'boolean' }, variant: { type: 'string', pattern: '^v[0-9]+$' }, weight: { type: 'number', minimum: 0, maximum: 1 } } }),
  );
  for (let i = 1; i <= migrations; i++) {
    writeFileSync(join(dir, 'migrations', `${String(i).padStart(4, '0')}_step_${i}.sql`), `CREATE TABLE IF NOT EXISTS bench_t${i} (id bigint PRIMARY KEY, note text);\n`);
  }
  writeRepo(dir, count, 1);
  return dir;
}

function rollout(dir, url, ...cmd) {
  const started = process.hrtime.bigint();
  // ROLLOUT_TIMINGS=1: the process prints its phases (actions/engine/timings.ts) as one stderr line at exit.
  const run = spawnSync(process.execPath, [CLI, '--root', dir, ...cmd], { env: { ...process.env, BENCH_DATABASE_URL: url, NO_COLOR: '1', ROLLOUT_TIMINGS: '1' }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`rollout ${cmd.join(' ')} failed (${run.status}): ${run.stderr.slice(0, 2000)}`);
  const line = run.stderr.split('\n').find((l) => l.startsWith('rollout timings: '));
  return { ms, stdout: run.stdout, phases: line ? JSON.parse(line.slice('rollout timings: '.length)) : {} };
}

function psqlUpserts(url, count, generation) {
  // The server's clock before BEGIN and after COMMIT: psql's transaction alone, start-up and connection left out.
  const statements = ['SELECT extract(epoch FROM clock_timestamp()) AS t0 \\gset', 'BEGIN;'];
  for (let i = 0; i < Math.min(1000, count / 10); i++) {
    const value = JSON.stringify({ enabled: i % 2 === 0, variant: `v${generation}`, weight: (i % 100) / 100 });
    statements.push(`INSERT INTO rollout.flags (key, value, updated_at) VALUES ('feature.f${i}', '${value}', now()) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();`);
  }
  statements.push('COMMIT;', 'SELECT (extract(epoch FROM clock_timestamp()) - :t0) * 1000;');
  const file = join(tmpdir(), `rollout-bench-psql-${process.pid}.sql`);
  writeFileSync(file, statements.join('\n'));
  const started = process.hrtime.bigint();
  const out = execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-f', file, url], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const transactionMs = Number(out.trim().split('\n').pop());
  if (!Number.isFinite(transactionMs)) throw new Error(`psql printed no transaction time: ${out.slice(0, 200)}`);
  return { ms, transactionMs };
}

const results = {};
const loadAtStart = loadavg();
const note = (key, ms) => (results[key] ??= []).push(ms);

// 1. Plan and apply at 10,000 flags (1,000 changed) with 1,000 applied migrations.
{
  const url = await freshDatabase('rollout_bench_plan');
  const dir = makeRepo(10_000, 1_000);
  rollout(dir, url, 'apply', '--env', 'bench', '--no-verify'); // generation 1 + 1,000 migrations
  for (let run = 0; run < RUNS; run++) {
    writeRepo(dir, 10_000, run + 2);
    const plan = rollout(dir, url, 'plan', '--env', 'bench', '--format', 'json');
    const parsed = JSON.parse(plan.stdout);
    if (parsed.summary.change !== 1000 || parsed.migrations.appliedCount !== 1000) throw new Error(`unexpected plan: ${JSON.stringify(parsed.summary)}`);
    note('plan 10k', plan.ms);
    const applied = rollout(dir, url, 'apply', '--env', 'bench', '--no-verify');
    note('apply 10k', applied.ms);
    for (const [phase, ms] of Object.entries(applied.phases)) note(`apply phase ${phase}`, ms);
    const flagTransaction = applied.phases['apply: flag transaction'];
    if (flagTransaction === undefined) throw new Error('apply printed no flag transaction time (ROLLOUT_TIMINGS)');
    note('apply flag transaction', flagTransaction);
    const psql = psqlUpserts(url, 10_000, run + 100);
    note('psql 1k upserts', psql.ms);
    note('psql transaction', psql.transactionMs);
    note('validate 10k', rollout(dir, url, 'validate').ms);
  }
  rmSync(dir, { recursive: true, force: true });
}

// 2. Plan at 1k, 10k and 50k flags (files over 8 MiB are refused) (no migrations), to show how it grows.
for (const count of [1_000, 10_000, 50_000]) {
  const url = await freshDatabase(`rollout_bench_plan_${count}`);
  const dir = makeRepo(count, 0);
  writeRepo(dir, count, 1);
  rollout(dir, url, 'apply', '--env', 'bench', '--no-verify');
  writeRepo(dir, count, 2);
  for (let run = 0; run < Math.max(3, Math.min(RUNS, count >= 50_000 ? 3 : RUNS)); run++) note(`plan ${count}`, rollout(dir, url, 'plan', '--env', 'bench', '--format', 'json').ms);
  rmSync(dir, { recursive: true, force: true });
}

const serverVersion = execFileSync('psql', ['-X', '-At', '-c', 'SHOW server_version', ADMIN_URL], { encoding: 'utf8' }).trim();
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const row = (label, key, extra = '') => `| ${label} | ${fmt(median(results[key]))} | ${results[key].length} | ${extra} |`;
const apply = median(results['apply 10k']);
const psql = median(results['psql 1k upserts']);
const p1 = median(results['plan 1000']);
const p10 = median(results['plan 10000']);
const p50 = median(results['plan 50000']);
const transaction = median(results['apply flag transaction']);
const psqlTransaction = median(results['psql transaction']);
const wholeRatio = apply / psql;
const writeRatio = transaction / psqlTransaction;
const verdict = (ratio) => (ratio <= 1.5 ? `met (${ratio.toFixed(2)}× ≤ 1.5×)` : `not met (${ratio.toFixed(2)}× > 1.5×)`);
const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
// Every phase apply timed (ROLLOUT_TIMINGS), median over the runs; "plan: read live" and "plan: migrations preview" overlap.
const phaseRows = Object.keys(results)
  .filter((k) => k.startsWith('apply phase '))
  .map((k) => `| ${k.slice('apply phase '.length)} | ${fmt(median(results[k]))} |`)
  .join('\n');
const section = `<!-- plan:start -->
## Plan and apply

An environment of 10,000 flags, each checked against a contract, 1,000 of them changed, with 1,000 applied migrations, on PostgreSQL ${serverVersion} at 127.0.0.1. Every time is a whole \`rollout\` process, node start-up included, median of the runs shown, except the two transaction rows. Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}; load average at the start ${load(loadAtStart)}, at the end ${load(loadavg())} (a shared machine: other work runs beside the benchmark; apply and psql alternate run by run). Produced by \`node bench/plan/run.mjs\`.

| measure | median | runs | note |
| --- | --- | --- | --- |
${row('validate, 10k flags', 'validate 10k')}
${row('plan, 10k flags (1k changed, 1k migrations applied)', 'plan 10k', 'goal < 1 s')}
${row('apply, 10k flags (1k changed): lock, migrations check, 1k upserts + ledger in one transaction', 'apply 10k', 'goal < 2 s')}
${row('psql: the same 1k upserts typed by hand, one transaction', 'psql 1k upserts', `rollout apply / psql = ${wholeRatio.toFixed(2)}×`)}
${row("apply's flag transaction alone, BEGIN to COMMIT in the process (lock, ledger entry + 1k changes, definitions, value table, NOTIFY)", 'apply flag transaction')}
${row("psql's transaction alone, BEGIN to COMMIT by the server's clock", 'psql transaction', `flag transaction / psql's = ${writeRatio.toFixed(2)}×`)}
${row('plan, 1k flags', 'plan 1000')}
${row('plan, 10k flags', 'plan 10000', `${(p10 / p1).toFixed(1)}× the 1k time`)}
${row('plan, 50k flags (the 8 MiB file limit holds about 75k)', 'plan 50000', `${(p50 / p10).toFixed(1)}× the 10k time`)}

Issue 11's goal for apply, ≤ 1.5× psql: for the whole process, ${verdict(wholeRatio)}; for the write itself (the flag transaction against psql's), ${verdict(writeRatio)}. The whole process also starts node, reads and checks the 10,000-flag file (about what validate takes), reads live state and plans before it writes; psql is handed the 1,000 statements.

Where apply's time goes (\`ROLLOUT_TIMINGS=1 rollout apply …\`, median per phase; the two "plan: read" phases run at the same time):

| phase | median |
| --- | --- |
${phaseRows}

Growth from 10k to 50k flags is ${(p50 / p10).toFixed(1)}× for 5× the flags (linear would be 5×; fixed start-up makes small sizes look relatively slower).
<!-- plan:end -->`;

const resultsFile = join(repoRoot, 'bench/RESULTS.md');
let text = readFileSync(resultsFile, 'utf8');
text = /<!-- plan:start -->[\s\S]*<!-- plan:end -->/.test(text) ? text.replace(/<!-- plan:start -->[\s\S]*<!-- plan:end -->/, section) : `${text.trimEnd()}\n\n${section}\n`;
writeFileSync(resultsFile, text);
console.log(section);
