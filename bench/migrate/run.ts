/**
 * Migration benchmark: the same generated history of 1,000 migrations applied to a fresh
 * database by this tool, psql (one connection, files in order), node-pg-migrate and dbmate,
 * interleaved in the same run; medians of BENCH_RUNS runs (default 3) go into
 * bench/RESULTS.md, section "Migrations".
 *   node --import tsx bench/migrate/run.ts
 * Needs a server: BENCH_DATABASE_URL or TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import pg from 'pg';
import { generateHistory, writeDbmateLayout, writeNodePgMigrateLayout, writeSqlLayout } from './generate.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const COUNT = Number(process.env.BENCH_MIGRATIONS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = resolve(import.meta.dirname, '../..');
const WORK = join(ROOT, 'bench/.work/migrate');
const BIN = join(ROOT, 'node_modules/.bin');

type Tool = 'rollout' | 'psql' | 'node-pg-migrate' | 'dbmate';
const TOOLS: Tool[] = ['rollout', 'psql', 'node-pg-migrate', 'dbmate'];

const history = generateHistory(COUNT);
const sqlFiles = await writeSqlLayout(join(WORK, 'sql'), history);
await writeDbmateLayout(join(WORK, 'dbmate'), history);
await writeNodePgMigrateLayout(join(WORK, 'npm'), history);
await build({
  entryPoints: [join(ROOT, 'bench/migrate/ours-entry.ts')],
  outfile: join(WORK, 'ours.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function command(tool: Tool, url: string): [string, string[], NodeJS.ProcessEnv] {
  switch (tool) {
    case 'rollout':
      return [process.execPath, [join(WORK, 'ours.mjs'), WORK, 'sql', url], process.env];
    case 'psql':
      return ['psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...sqlFiles.flatMap((f) => ['-f', f])], process.env];
    case 'node-pg-migrate':
      return [join(BIN, 'node-pg-migrate'), ['up', '-m', join(WORK, 'npm'), '--no-single-transaction', '--no-verbose', '--no-check-order'], { ...process.env, DATABASE_URL: url }];
    case 'dbmate': {
      const withSsl = new URL(url);
      withSsl.searchParams.set('sslmode', 'disable');
      return [join(BIN, 'dbmate'), ['--url', withSsl.toString(), '--migrations-dir', join(WORK, 'dbmate'), '--no-dump-schema', 'up'], process.env];
    }
  }
}

async function runOnce(tool: Tool, run: number): Promise<number> {
  const database = `bench_${tool.replace(/-/g, '_')}_${run}`;
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${database}`);
  const url = urlFor(database);
  const [bin, args, env] = command(tool, url);
  const started = performance.now();
  const result = spawnSync(bin, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${tool} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`);
  await verify(tool, url);
  await admin(`DROP DATABASE ${database} WITH (FORCE)`);
  return ms;
}

/** Every tool must have built the same schema: count the generated tables, views and indexes. */
async function verify(tool: Tool, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't\\_%') + (SELECT count(*) FROM pg_views WHERE schemaname = 'public') + (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx\\_%') AS n",
    );
    const expected = history.reduce((n, m) => n + (m.name.startsWith('create_t_') || m.name.startsWith('view_') ? 1 : m.name.startsWith('index_') ? 1 : 0), 0);
    if (Number(rows[0].n) !== expected) throw new Error(`${tool} built ${rows[0].n} objects, expected ${expected}`);
  } finally {
    await client.end();
  }
}

const times = new Map<Tool, number[]>(TOOLS.map((t) => [t, []]));
for (let run = 0; run < RUNS; run += 1) {
  // Rotate the order each round so no tool always runs on a warm (or cold) server.
  const order = TOOLS.map((_, i) => TOOLS[(i + run) % TOOLS.length]);
  for (const tool of order) {
    const ms = await runOnce(tool, run);
    times.get(tool)!.push(ms);
    process.stdout.write(`run ${run + 1}/${RUNS} ${tool.padEnd(16)} ${(ms / 1000).toFixed(2)} s\n`);
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const medians = new Map(TOOLS.map((t) => [t, median(times.get(t)!)]));
const ours = medians.get('rollout')!;
const psql = medians.get('psql')!;

const serverVersion = await (async () => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
})();
const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
const counts = {
  concurrently: history.filter((m) => m.nonTransactional).length,
  ownTransaction: history.filter((m) => m.ownTransaction).length,
};
const rows = TOOLS.map((tool) => {
  const m = medians.get(tool)!;
  const all = times.get(tool)!.map((t) => (t / 1000).toFixed(2)).join(', ');
  return `| ${tool} | ${(m / 1000).toFixed(2)} s | ${(m / psql).toFixed(2)}× | ${(m / ours).toFixed(2)}× | ${all} |`;
});
const section = [
  '## Migrations',
  '',
  `Applying a generated history of ${COUNT} migrations (${counts.concurrently} with CREATE INDEX CONCURRENTLY, ${counts.ownTransaction} with their own BEGIN/COMMIT, plus tables, columns, indexes, views, functions and triggers, enums, seed rows, RLS policies) to a fresh database, end to end (process start to exit).`,
  `Median of ${RUNS} runs per tool, tools interleaved in one run. Produced by \`node --import tsx bench/migrate/run.ts\`.`,
  '',
  `Machine: ${nproc} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, PostgreSQL ${serverVersion} on localhost, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| tool | median | vs psql | vs rollout | runs |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
  'How each tool runs the files: rollout — one connection, one simple query per transactional file (BEGIN, the file, its history row, COMMIT), statement by statement for CONCURRENTLY files; ' +
    'psql — `psql -X -q -v ON_ERROR_STOP=1 -f` for every file on one connection (autocommit: each statement commits, no history table); ' +
    'node-pg-migrate 9 — `up --no-single-transaction` over JS files, one pgm.sql per file (per statement with noTransaction for CONCURRENTLY); ' +
    'dbmate 2 — `up --no-dump-schema`, `transaction:false` for CONCURRENTLY and BEGIN/COMMIT files.',
  '',
].join('\n');

const resultsPath = join(ROOT, 'bench/RESULTS.md');
let results = '';
try {
  results = await readFile(resultsPath, 'utf8');
} catch {
  results = '# Benchmark results\n\n';
}
// Replace only our section: other benchmarks write theirs into the same file.
const start = results.indexOf('## Migrations');
if (start === -1) results = `${results.trimEnd()}\n\n${section}`;
else {
  const end = results.indexOf('\n## ', start + 1);
  results = results.slice(0, start) + section + (end === -1 ? '' : results.slice(end + 1));
}
await writeFile(resultsPath, results);
process.stdout.write(`\n${section}`);
