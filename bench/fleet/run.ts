#!/usr/bin/env -S npx tsx
// Benchmark: a fleet. N target databases on one Postgres server, each given M migrations and F
// flags: (1) `rollout apply` of the fleet environment, as one process with its pool at each
// concurrency; (2) the way a team does it without fleets, in the same run and on the same
// databases: one environment file per database and N separate `rollout apply` processes, P at a
// time; (3) `rollout plan` of the fleet beside `rollout plan` of one of those single files.
// Every apply starts from empty databases (rollout's schema and the migrated tables dropped).
// Not a test: it measures and records, nobody asserts it.
//
//   npm run build && BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/fleet/run.ts \
//     [--targets 200] [--migrations 20] [--flags 50] [--concurrency 1,4,8,16] [--naive-parallel 8] [--runs 1] [--note TEXT]
//
// Writes the "Fleet" section of bench/RESULTS.md between its markers.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const CLI = join(ROOT, 'bin', 'rollout.js');
const WORK = join(ROOT, 'bench', '.work', 'fleet');
const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '200' },
    migrations: { type: 'string', default: '20' },
    flags: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '1,4,8,16' },
    'naive-parallel': { type: 'string', default: '8' },
    runs: { type: 'string', default: '1' },
    note: { type: 'string', default: '' },
  },
});
const N = Number(values.targets);
const M = Number(values.migrations);
const F = Number(values.flags);
const LEVELS = values.concurrency.split(',').map(Number);
const PARALLEL = Number(values['naive-parallel']);
const RUNS = Math.max(1, Number(values.runs));
const URL_TEXT = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('run npm run build first: the benchmark runs the CLI as users do (bin/rollout.js)');

const names = Array.from({ length: N }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);
const run = `${process.pid}`;
const databaseOf = (name: string): string => `rollout_bench_fleet_${run}_${name}`;
const urlOf = (name: string): string => {
  const url = new URL(URL_TEXT);
  url.pathname = `/${databaseOf(name)}`;
  return url.toString();
};
const processEnv = { ...process.env, ...Object.fromEntries(names.map((n) => [`TENANT_${n.toUpperCase()}_URL`, urlOf(n)])) };

// Two repositories with the same migrations and flags: one fleet file, and one file per database.
const flagsYaml = `flags:\n${Array.from({ length: F }, (_, i) => `  app.flag_${i}:\n    value: { enabled: ${i % 2 === 0}, limit: ${i} }\n`).join('')}`;
const migrations = Object.fromEntries(
  Array.from({ length: M }, (_, i) => [`migrations/${String(i + 1).padStart(3, '0')}_table_${i}.sql`, `CREATE TABLE public.table_${i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX table_${i}_name ON public.table_${i} (name);\n`]),
);
const checks = 'checks:\n  - name: tables exist\n    sql: SELECT count(*)::int FROM pg_tables WHERE schemaname = \'public\'\n    expect: { value: ' + M + ' }\n';
function writeRepository(dir: string, files: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [path, text] of Object.entries({ ...migrations, ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}
const fleetRoot = join(WORK, 'fleet');
const naiveRoot = join(WORK, 'naive');
writeRepository(fleetRoot, { 'environments/tenants.yaml': `version: 1\ntarget_url_env: TENANT_{NAME}_URL\ntargets:\n${names.map((n) => `  - { name: ${n} }\n`).join('')}${flagsYaml}${checks}` });
writeRepository(naiveRoot, Object.fromEntries(names.map((n) => [`environments/${n}.yaml`, `version: 1\ndatabase: { url_env: TENANT_${n.toUpperCase()}_URL }\n${flagsYaml}${checks}`])));

function cli(root: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CLI, '--root', root, ...args], { env: processEnv, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`rollout ${args.join(' ')} failed: ${stderr.slice(0, 2000)}`));
      else resolve(performance.now() - started);
    }),
  );
}

async function eachDatabase(fn: (client: pg.Client) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < N) {
        const client = new pg.Client({ connectionString: urlOf(names[next++]) });
        await client.connect();
        try {
          await fn(client);
        } finally {
          await client.end();
        }
      }
    }),
  );
}
const reset = (): Promise<void> => eachDatabase((c) => c.query('DROP SCHEMA IF EXISTS rollout CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;').then(() => undefined));
async function converged(): Promise<void> {
  await eachDatabase(async (c) => {
    const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM rollout.flags");
    if (rows[0].n !== F) throw new Error(`a target has ${rows[0].n} flags, not ${F}: the apply did not converge`);
  });
}

async function naiveApply(): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < N) await cli(naiveRoot, ['apply', '--env', names[next++]]);
  }));
  return performance.now() - started;
}

const admin = new pg.Client({ connectionString: URL_TEXT });
await admin.connect();
const times: Record<string, number[]> = {};
const record = (name: string, ms: number): void => {
  (times[name] ??= []).push(ms);
  console.log(`${name}: ${(ms / 1000).toFixed(2)} s`);
};
const started = new Date();
try {
  for (const name of names) await admin.query(`CREATE DATABASE ${databaseOf(name)}`);
  for (let r = 0; r < RUNS; r += 1) {
    // Alternated, so that neither way always runs on a warmer server.
    for (const level of LEVELS) {
      await reset();
      record(`plan-fresh-one`, await cli(naiveRoot, ['plan', '--env', names[0]]));
      record(`plan-fresh-fleet-${level}`, await cli(fleetRoot, ['plan', '--env', 'tenants', '--concurrency', String(level)]));
      record(`fleet-${level}`, await cli(fleetRoot, ['apply', '--env', 'tenants', '--concurrency', String(level)]));
      await converged();
    }
    await reset();
    record('naive', await naiveApply());
    await converged();
  }
} finally {
  for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${databaseOf(name)} WITH (FORCE)`);
  await admin.end();
}

const best = LEVELS.reduce((a, b) => (median(times[`fleet-${a}`]) <= median(times[`fleet-${b}`]) ? a : b));
const naive = median(times.naive);
const one = median(times['plan-fresh-one']);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const rows = LEVELS.map((c) => `| fleet apply, pool of ${c} (one process) | ${seconds(median(times[`fleet-${c}`]))} | ${(median(times[`fleet-${c}`]) / naive).toFixed(2)} |`);
const planRows = LEVELS.map((c) => {
  const fleet = median(times[`plan-fresh-fleet-${c}`]);
  const bound = (one * N) / c;
  return `| fleet plan, pool of ${c} | ${seconds(fleet)} | ${seconds(bound)} | ${(fleet / bound).toFixed(2)} |`;
});
const section = `<!-- fleet:start -->
## Fleet

${N} target databases on one Postgres server (loopback), each given ${M} migrations (a table and an index each), ${F} flags and one check, from empty. \`rollout apply --env tenants\` of the fleet file as one process with its pool at ${LEVELS.join(', ')}, and in the same run, on the same databases, the way without fleets: one environment file per database and ${N} \`rollout apply\` processes, ${PARALLEL} at a time. Then \`rollout plan\` of the fleet (pending migrations and flags on every target) beside \`rollout plan\` of one single-database file, as processes both. Measured ${started.toISOString().slice(0, 10)} on ${cpus().length} CPUs, Node ${process.version}, by \`npx tsx bench/fleet/run.ts --targets ${N}\`; median of ${RUNS} run(s).${values.note ? ` ${values.note}` : ''}

| apply | wall | vs separate processes |
|---|---:|---:|
${rows.join('\n')}
| ${N} separate \`rollout apply\` processes, ${PARALLEL} at a time | ${seconds(naive)} | 1.00 |

Best pool: ${best}, at ${(median(times[`fleet-${best}`]) / naive).toFixed(2)}× the separate processes (goal ≤ 0.5×).

| plan | wall | one target's plan × ${N} / pool | ratio (goal ≤ 2) |
|---|---:|---:|---:|
${planRows.join('\n')}

One target's plan (a process): ${seconds(one)}. Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.
<!-- fleet:end -->`;

let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
const start = text.indexOf('<!-- fleet:start -->');
const end = text.indexOf('<!-- fleet:end -->');
text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + '<!-- fleet:end -->'.length) : `${text.trimEnd()}\n\n${section}\n`;
writeFileSync(RESULTS, text);
console.log(section);
