/**
 * Migration benchmark on real-shaped histories (real-shaped.ts): Prisma migration folders of
 * ≈150, ≈450 and ≈800 files, applied to a fresh database by `rollout migrate apply` and by
 * psql (one connection, each migration.sql in Prisma's order, as a person would), interleaved
 * in the same run; plus rollout on the embedded database (PGlite) for the ≈150-file history.
 * Medians of BENCH_RUNS runs (default 5, at least 3) go into bench/RESULTS.md, section
 * "Migrations: real-shaped histories".
 *   node --import tsx bench/migrate/real.ts
 * BENCH_EMBEDDED_ONLY=1 times only the embedded database against rollout on the server, on the
 * BENCH_EMBEDDED_SIZE history (default 150), without psql, into its own section of RESULTS.md
 * ("Migrations: the embedded database on a real-shaped history").
 * Needs a server: BENCH_DATABASE_URL or TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { generateRealShapedHistory, writePrismaLayout } from './real-shaped.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EMBEDDED_ONLY = process.env.BENCH_EMBEDDED_ONLY === '1';
const SIZES = EMBEDDED_ONLY ? [Number(process.env.BENCH_EMBEDDED_SIZE ?? 150)] : (process.env.BENCH_SIZES ?? '150,450,800').split(',').map(Number);
const EMBEDDED_SIZE = Number(process.env.BENCH_EMBEDDED_SIZE ?? SIZES[0]);
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
const ROOT = resolve(import.meta.dirname, '../..');
const WORK = join(ROOT, 'bench/.work/migrate-real');

type Tool = 'rollout' | 'psql' | 'rollout-embedded';
const label = (tool: Tool): string => (tool === 'rollout-embedded' ? 'rollout (embedded)' : tool);

// The CLI as `npm ci` builds it (dist/ is not committed): build it now, so that it is this tree's.
execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });

/** An initialised, empty PGlite data directory, copied for every embedded run (initdb is not what is measured). */
const TEMPLATE = join(WORK, 'pglite-template');
if (!(await exists(join(TEMPLATE, 'PG_VERSION')))) {
  await mkdir(TEMPLATE, { recursive: true });
  await (await PGlite.create(TEMPLATE)).close();
}

interface Workload {
  size: number;
  repo: string;
  files: string[];
  concurrentlyFiles: number;
  ownTransactionFiles: number;
  sameTimestamp: number;
}

const workloads: Workload[] = [];
for (const size of SIZES) {
  const history = generateRealShapedHistory(size);
  const repo = join(WORK, String(size));
  await rm(repo, { recursive: true, force: true });
  const files = await writePrismaLayout(join(repo, 'prisma/migrations'), history);
  await mkdir(join(repo, 'environments'), { recursive: true });
  const migrations = 'migrations:\n  directory: prisma/migrations\n  advisory_lock: { mode: fail }\n';
  await writeFile(join(repo, 'environments/bench.yaml'), `version: 1\ndatabase:\n  url_env: BENCH_URL\n${migrations}`);
  await writeFile(join(repo, 'environments/bench-embedded.yaml'), `version: 1\ndatabase:\n  embedded: .rollout/db\n${migrations}`);
  const folders = history.map((m) => m.folder);
  workloads.push({
    size,
    repo,
    files,
    concurrentlyFiles: history.filter((m) => m.concurrently > 0).length,
    ownTransactionFiles: history.filter((m) => m.ownTransaction).length,
    sameTimestamp: folders.filter((f, i) => i > 0 && f.slice(0, 14) === folders[i - 1].slice(0, 14)).length,
  });
}

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

/** What every tool must have built: tables, indexes, views and enum types of the public schema. */
const SHAPE_SQL =
  "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') || ' tables, ' || (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ' indexes, ' || " +
  "(SELECT count(*) FROM pg_views WHERE schemaname = 'public') || ' views, ' || (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e') || ' enums' AS shape";

async function runOnce(tool: Tool, w: Workload, run: number): Promise<{ ms: number; shape: string }> {
  if (tool === 'rollout-embedded') {
    const dir = join(w.repo, '.rollout/db');
    await rm(dir, { recursive: true, force: true });
    await cp(TEMPLATE, dir, { recursive: true });
    const started = performance.now();
    const result = spawnSync(process.execPath, [join(ROOT, 'bin/rollout.js'), '--root', w.repo, 'migrate', 'apply', '--env', 'bench-embedded'], { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`${tool} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`);
    const db = await PGlite.create(dir);
    try {
      const applied = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM rollout.schema_migrations WHERE status = 'applied'")).rows[0].n;
      if (applied !== w.size) throw new Error(`${tool} recorded ${applied} applied migrations, expected ${w.size}`);
      return { ms, shape: (await db.query<{ shape: string }>(SHAPE_SQL)).rows[0].shape };
    } finally {
      await db.close();
    }
  }
  const database = `bench_real_${tool.replace(/-/g, '_')}_${w.size}_${run}`;
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${database}`);
  await admin('CHECKPOINT').catch(() => undefined);
  const url = urlFor(database);
  const [bin, args, env]: [string, string[], NodeJS.ProcessEnv] =
    tool === 'psql'
      ? ['psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...w.files.flatMap((f) => ['-f', f])], process.env]
      : [process.execPath, [join(ROOT, 'bin/rollout.js'), '--root', w.repo, 'migrate', 'apply', '--env', 'bench'], { ...process.env, BENCH_URL: url, NO_COLOR: '1' }];
  const started = performance.now();
  const result = spawnSync(bin, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${tool} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (tool === 'rollout') {
      const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM rollout.schema_migrations WHERE status = 'applied'");
      if (Number(rows[0].n) !== w.size) throw new Error(`rollout recorded ${rows[0].n} applied migrations, expected ${w.size}`);
    }
    return { ms, shape: (await client.query<{ shape: string }>(SHAPE_SQL)).rows[0].shape };
  } finally {
    await client.end();
    await admin(`DROP DATABASE ${database} WITH (FORCE)`);
  }
}

const loadAtStart = loadavg();
const startedAt = new Date();
process.stdout.write(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}\n`);
const times = new Map<string, number[]>();
const shapes = new Map<string, string>();
for (let run = 0; run < RUNS; run += 1) {
  for (const w of workloads) {
    const tools: Tool[] = [...(EMBEDDED_ONLY ? (['rollout'] as const) : (['rollout', 'psql'] as const)), ...(w.size === EMBEDDED_SIZE ? (['rollout-embedded'] as const) : [])];
    // Rotate the order each round so no tool always runs on a warm (or cold) server.
    const order = tools.map((_, i) => tools[(i + run) % tools.length]);
    for (const tool of order) {
      const { ms, shape } = await runOnce(tool, w, run);
      const key = `${w.size}:${tool}`;
      times.set(key, [...(times.get(key) ?? []), ms]);
      const expected = shapes.get(String(w.size));
      if (expected !== undefined && expected !== shape) throw new Error(`${tool} built ${shape} from the ${w.size}-file history, another tool ${expected}`);
      shapes.set(String(w.size), shape);
      process.stdout.write(`run ${run + 1}/${RUNS} ${String(w.size).padStart(4)} files ${label(tool).padEnd(20)} ${(ms / 1000).toFixed(2)} s\n`);
    }
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const serverVersion = await (async () => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
})();
const loadAtEnd = loadavg();
const psqlVersion = (spawnSync('psql', ['--version'], { encoding: 'utf8' }).stdout || '?').trim().replace(/^psql \(PostgreSQL\) /, '');
const pgliteVersion = (JSON.parse(await readFile(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version;
if (EMBEDDED_ONLY) {
  const w = workloads[0];
  const ours = median(times.get(`${w.size}:rollout`)!);
  const embedded = median(times.get(`${w.size}:rollout-embedded`)!);
  const all = (tool: Tool): string => times.get(`${w.size}:${tool}`)!.map((t) => (t / 1000).toFixed(2)).join(', ');
  const ratio = embedded / ours;
  const section = [
    '## Migrations: the embedded database on a real-shaped history',
    '',
    `\`BENCH_EMBEDDED_ONLY=1 node --import tsx bench/migrate/real.ts\`: the ${w.size}-file real-shaped history (see the section above) applied by \`rollout migrate apply\` to the embedded database (PGlite ${pgliteVersion}, from a copy of an initialised empty data directory) and to a fresh database on the server, interleaved and rotated, median of ${RUNS} runs each, process start to exit.`,
    `Machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPU(s), Node ${process.version}, PostgreSQL ${serverVersion} on localhost. Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; load average (1, 5, 15 min) ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')} at end (other work shares the machine).`,
    '',
    '| tool | median | runs |',
    '| --- | --- | --- |',
    `| rollout, server | ${(ours / 1000).toFixed(2)} s | ${all('rollout')} |`,
    `| rollout, embedded | ${(embedded / 1000).toFixed(2)} s | ${all('rollout-embedded')} |`,
    '',
    `Embedded ${ratio.toFixed(2)}× the server (goal ≤ 3×) — ${ratio <= 3 ? 'met' : 'not met'}.`,
  ].join('\n');
  await writeSection('migrate-embedded', section);
  process.stdout.write(`\n${section}\n`);
  process.exit(0);
}

const rows: string[] = [];
const verdicts: string[] = [];
for (const w of workloads) {
  const ours = median(times.get(`${w.size}:rollout`)!);
  const psql = median(times.get(`${w.size}:psql`)!);
  const all = (tool: Tool): string => times.get(`${w.size}:${tool}`)!.map((t) => (t / 1000).toFixed(2)).join(', ');
  const shape = `${w.concurrentlyFiles} CONCURRENTLY files, ${w.ownTransactionFiles} with BEGIN/COMMIT, ${w.sameTimestamp} sharing a timestamp`;
  rows.push(`| ${w.size} (${shape}) | rollout | ${(ours / 1000).toFixed(2)} s | ${(ours / psql).toFixed(2)}× | ${all('rollout')} |`);
  rows.push(`| ${w.size} | psql | ${(psql / 1000).toFixed(2)} s | 1.00× | ${all('psql')} |`);
  verdicts.push(`${w.size} files: rollout ${(ours / psql).toFixed(2)}× psql (goal ≤ 1.05×) — ${ours <= 1.05 * psql ? 'met' : 'not met'}`);
  if (times.has(`${w.size}:rollout-embedded`)) {
    const embedded = median(times.get(`${w.size}:rollout-embedded`)!);
    rows.push(`| ${w.size} | rollout (embedded) | ${(embedded / 1000).toFixed(2)} s | ${(embedded / psql).toFixed(2)}× (${(embedded / ours).toFixed(2)}× rollout on the server) | ${all('rollout-embedded')} |`);
    verdicts.push(`${w.size} files on the embedded database: ${(embedded / ours).toFixed(2)}× the server (goal ≤ 3×) — ${embedded <= 3 * ours ? 'met' : 'not met'}`);
  }
}
const section = [
  '## Migrations: real-shaped histories',
  '',
  'Histories shaped like real applications\' Prisma projects (bench/migrate/real-shaped.ts): migration folders of mostly small DDL in Prisma\'s style (CREATE TABLE with indexes and foreign keys, added columns, enums and added values, dropped defaults, views, trigger functions, a few seed rows), hand-written CREATE INDEX CONCURRENTLY files (often several per file), backfills with their own BEGIN/COMMIT, and folders that share a timestamp. Applied to a fresh database end to end (process start to exit), by `rollout migrate apply` (the real command on a repository whose environment points at prisma/migrations) and by psql (`psql -X -q -v ON_ERROR_STOP=1 -f` for each migration.sql on one connection, in Prisma\'s order; autocommit, no history table). Every run checks that both built the same tables, indexes, views and enums.',
  `The embedded database (PGlite ${pgliteVersion}) is timed on the ${EMBEDDED_SIZE}-file history from an initialised empty data directory (copied before each run; initdb, ~5 s once per directory, is not in the time).`,
  `Median of ${RUNS} runs per tool, tools interleaved and rotated in one run. Produced by \`node --import tsx bench/migrate/real.ts\`.`,
  '',
  `Machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, PostgreSQL ${serverVersion} on localhost, psql ${psqlVersion}. ` +
    `Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; load average (1, 5, 15 min) ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')} at end.`,
  '',
  '| history | tool | median | vs psql | runs |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
  ...verdicts.map((v) => `- ${v}`),
  '',
].join('\n');

const resultsPath = join(ROOT, 'bench/RESULTS.md');
let results = await readFile(resultsPath, 'utf8').catch(() => '# Benchmark results\n\n');
const START = '<!-- migrate-real:start -->';
const END = '<!-- migrate-real:end -->';
const block = `${START}\n${section.trimEnd()}\n${END}\n`;
if (results.includes(START) && results.includes(END)) {
  results = results.slice(0, results.indexOf(START)) + block + results.slice(results.indexOf(END) + END.length).replace(/^\n/, '');
} else if (results.includes('<!-- migrate:end -->')) {
  // Beside the 1,000-file run.
  const at = results.indexOf('<!-- migrate:end -->') + '<!-- migrate:end -->'.length;
  results = `${results.slice(0, at)}\n\n${block}${results.slice(at).replace(/^\n+/, '\n')}`;
} else {
  results = `${results.trimEnd()}\n\n${block}`;
}
await writeFile(resultsPath, results);
process.stdout.write(`\n${section}`);

/** Replace (or append) the section between this marker pair in bench/RESULTS.md. */
async function writeSection(marker: string, section: string): Promise<void> {
  const path = join(ROOT, 'bench/RESULTS.md');
  const text = await readFile(path, 'utf8');
  const [start, end] = [`<!-- ${marker}:start -->`, `<!-- ${marker}:end -->`];
  const block = `${start}\n${section.trimEnd()}\n${end}`;
  const next = text.includes(start) && text.includes(end) ? text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(path, next);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
