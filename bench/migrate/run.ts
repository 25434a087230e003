/**
 * Migration benchmark: the same generated history of 1,000 migrations applied to a fresh
 * database by this tool, psql (one connection, files in order), node-pg-migrate and dbmate,
 * interleaved in the same run; medians of BENCH_RUNS runs (default 5, at least 3) go into
 * bench/RESULTS.md, section "Migrations".
 *   node --import tsx bench/migrate/run.ts
 * Needs a server: BENCH_DATABASE_URL or TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
// @ts-expect-error -- a plain .mjs module without type declarations
import { CLI_BANNER, CLI_EXTERNAL } from '../../scripts/cli-bundle.mjs';
import pg from 'pg';
import { generateHistory, writeDbmateLayout, writeNodePgMigrateLayout, writeSqlLayout } from './generate.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const COUNT = Number(process.env.BENCH_MIGRATIONS ?? 1000);
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
const ROOT = resolve(import.meta.dirname, '../..');
const WORK = join(ROOT, 'bench/.work/migrate');
const BIN = join(ROOT, 'node_modules/.bin');

/**
 * BENCH_BASELINE_REF=<git ref> adds "rollout@<ref>": the migrator as it was at that commit,
 * built the same way and run in the same rounds, for an honest before/after on one machine state.
 */
const BASELINE_REF = process.env.BENCH_BASELINE_REF;
/**
 * 'rollout' is the real command, `rollout migrate apply --env bench`, on a repository whose
 * migrations/ is the generated history; 'rollout-flush-file' the same with migrations.flush:
 * file (a WAL flush at every file's commit); 'baseline' the migrator of an older commit,
 * bundled from its bench entry (ours-entry.ts: the same calls the command makes).
 */
type Tool = 'rollout' | 'rollout-flush-file' | 'psql' | 'node-pg-migrate' | 'dbmate' | 'baseline';
const TOOLS: Tool[] = ['rollout', 'rollout-flush-file', 'psql', 'node-pg-migrate', 'dbmate', ...(BASELINE_REF ? (['baseline'] as const) : [])];
const label = (tool: Tool): string => (tool === 'baseline' ? `rollout@${BASELINE_REF}` : tool === 'rollout-flush-file' ? 'rollout (flush: file)' : tool);
const isOurs = (tool: Tool): boolean => tool === 'rollout' || tool === 'rollout-flush-file' || tool === 'baseline';

const history = generateHistory(COUNT);
const sqlFiles = await writeSqlLayout(join(WORK, 'sql'), history);
await writeDbmateLayout(join(WORK, 'dbmate'), history);
await writeNodePgMigrateLayout(join(WORK, 'npm'), history);
// A repository for the real CLI: migrations/ is the same generated files, one environment per flush mode.
const REPO = join(WORK, 'repo');
await rm(REPO, { recursive: true, force: true });
await mkdir(join(REPO, 'environments'), { recursive: true });
await symlink(join(WORK, 'sql'), join(REPO, 'migrations'));
for (const [name, flush] of [['bench', 'run'], ['bench-flush-file', 'file']]) {
  await writeFile(join(REPO, 'environments', `${name}.yaml`), `version: 1\ndatabase:\n  url_env: BENCH_URL\nmigrations:\n  flush: ${flush}\n  advisory_lock: { mode: fail }\n`);
}
// The CLI as `npm ci` builds it (dist/ is not committed): build it now, so that it is this tree's.
execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
// Built like the CLI (scripts/build.mjs, scripts/cli-bundle.mjs): pure-JS dependencies bundled,
// code splitting, so that lazily imported modules (PGlite, libpg-query) load only when used.
const buildOurs = (entry: string, outdir: string) => build({
  entryPoints: { ours: entry },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: CLI_EXTERNAL,
  banner: CLI_BANNER,
  logLevel: 'warning',
});
if (BASELINE_REF) {
  const source = join(WORK, 'baseline-src');
  await rm(source, { recursive: true, force: true });
  await mkdir(source, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive "${BASELINE_REF}" actions bench/migrate | tar -x -C "${source}"`]);
  // Built inside WORK so that its external packages resolve to this repository's node_modules.
  await buildOurs(join(source, 'bench/migrate/ours-entry.ts'), join(WORK, 'baseline'));
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

function command(tool: Tool, url: string): [string, string[], NodeJS.ProcessEnv] {
  switch (tool) {
    case 'rollout':
    case 'rollout-flush-file': {
      const env = tool === 'rollout' ? 'bench' : 'bench-flush-file';
      return [process.execPath, [join(ROOT, 'bin/rollout.js'), '--root', REPO, 'migrate', 'apply', '--env', env], { ...process.env, BENCH_URL: url, NO_COLOR: '1' }];
    }
    case 'baseline':
      return [process.execPath, [join(WORK, 'baseline', 'ours.mjs'), WORK, 'sql', url], process.env];
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
  // Start every tool from the same server state: nothing left for the checkpointer to write
  // from the previous run or the CREATE DATABASE (needs superuser or pg_checkpoint; skipped otherwise).
  await admin('CHECKPOINT').catch(() => undefined);
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
    if (isOurs(tool)) {
      const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM rollout.schema_migrations WHERE status = 'applied'");
      if (Number(rows[0].n) !== COUNT) throw new Error(`rollout recorded ${rows[0].n} applied migrations, expected ${COUNT}`);
    }
    const { rows } = await client.query<{ n: string }>(
      "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't\\_%') + (SELECT count(*) FROM pg_views WHERE schemaname = 'public') + (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx\\_%') AS n",
    );
    const expected = history.reduce((n, m) => n + (m.name.startsWith('create_t_') || m.name.startsWith('view_') ? 1 : m.name.startsWith('index_') ? 1 : 0), 0);
    if (Number(rows[0].n) !== expected) throw new Error(`${tool} built ${rows[0].n} objects, expected ${expected}`);
  } finally {
    await client.end();
  }
}

const loadAtStart = loadavg();
const startedAt = new Date();
process.stdout.write(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}\n`);
const times = new Map<Tool, number[]>(TOOLS.map((t) => [t, []]));
for (let run = 0; run < RUNS; run += 1) {
  // Rotate the order each round so no tool always runs on a warm (or cold) server.
  const order = TOOLS.map((_, i) => TOOLS[(i + run) % TOOLS.length]);
  for (const tool of order) {
    const ms = await runOnce(tool, run);
    times.get(tool)!.push(ms);
    process.stdout.write(`run ${run + 1}/${RUNS} ${label(tool).padEnd(20)} ${(ms / 1000).toFixed(2)} s\n`);
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
const loadAtEnd = loadavg();
const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
const versionOf = (bin: string, args: string[]): string => {
  const result = spawnSync(bin, args, { encoding: 'utf8' });
  return (result.stdout || result.stderr || '?').trim().split('\n')[0];
};
const toolVersions = [
  `psql ${versionOf('psql', ['--version']).replace(/^psql \(PostgreSQL\) /, '')}`,
  `node-pg-migrate ${(JSON.parse(await readFile(join(ROOT, 'node_modules/node-pg-migrate/package.json'), 'utf8')) as { version: string }).version}`,
  `dbmate ${versionOf(join(BIN, 'dbmate'), ['--version']).replace(/^dbmate version /, '')}`,
].join(', ');
const counts = {
  concurrently: history.filter((m) => m.nonTransactional).length,
  ownTransaction: history.filter((m) => m.ownTransaction).length,
};
const fastestPeer = Math.min(medians.get('node-pg-migrate')!, medians.get('dbmate')!);
const withinPsql = ours <= 1.2 * psql;
const beatsPeers = ours < fastestPeer;
const verdict =
  withinPsql && beatsPeers
    ? `**Goal met in this run**: rollout is ${(ours / psql).toFixed(2)}× psql (target ≤ 1.2×) and faster than both peers (${(ours / fastestPeer).toFixed(2)}× the faster of them).`
    : `**Goal not met in this run**: rollout is ${(ours / psql).toFixed(2)}× psql (target ≤ 1.2×) and ${(ours / fastestPeer).toFixed(2)}× the faster peer (target < 1).`;
const rows = TOOLS.map((tool) => {
  const m = medians.get(tool)!;
  const all = times.get(tool)!.map((t) => (t / 1000).toFixed(2)).join(', ');
  return `| ${label(tool)} | ${(m / 1000).toFixed(2)} s | ${(m / psql).toFixed(2)}× | ${(m / ours).toFixed(2)}× | ${all} |`;
});
const section = [
  '## Migrations',
  '',
  `Applying a generated history of ${COUNT} migrations (${counts.concurrently} with CREATE INDEX CONCURRENTLY, ${counts.ownTransaction} with their own BEGIN/COMMIT, plus tables, columns, indexes, views, functions and triggers, enums, seed rows, RLS policies) to a fresh database, end to end (process start to exit).`,
  `Median of ${RUNS} runs per tool, tools interleaved in one run. Produced by \`node --import tsx bench/migrate/run.ts\`.`,
  '',
  `Machine: ${nproc} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, PostgreSQL ${serverVersion} on localhost; ${toolVersions}. ` +
    `Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; load average (1, 5, 15 min) ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')} at end.`,
  '',
  '| tool | median | vs psql | vs rollout | runs |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
  verdict,
  ...(BASELINE_REF
    ? ['', `rollout@${BASELINE_REF} is the migrator before the changes being measured, built and run the same way in the same rounds: rollout now takes ${(ours / medians.get('baseline')!).toFixed(2)}× its time.`]
    : []),
  '',
  'Timings on this shared 2-core machine vary up to 4× between runs of the same tool, mostly with the disk (a small migration costs one WAL flush per commit, ~1–7 ms here depending on what else is writing): compare the medians of one run, not numbers across runs.',
  '',
  'Every run starts from a fresh database (CREATE DATABASE, then CHECKPOINT) and is timed from process start to exit; the order of the tools rotates each round. ' +
    'rollout and psql read the same generated .sql files; dbmate gets the same SQL under its `-- migrate:up` header, node-pg-migrate the same SQL in `pgm.sql()` calls.',
  '',
  'How each tool runs the files: rollout — the real command, `node bin/rollout.js --root <repo> migrate apply --env bench` (start-up, reading the environment file and the progress lines included): one connection, one simple query and one commit per transactional file (BEGIN, the file, its history row, COMMIT), one query per BEGIN/COMMIT file (history row inside its last transaction), statement by statement for CONCURRENTLY files, plus a server-side syntax check of all pending files in one round trip before the first; ' +
    'by default (`migrations.flush: run`) each file commits with synchronous_commit off and the run ends with one commit that waits for the WAL flush, so everything reported applied is on disk when it returns (docs/migrations.md says what a server crash mid-run can undo); `rollout (flush: file)` waits for the flush at every file, as psql does at every statement; ' +
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
// Replace only our section, between its markers: other benchmarks write theirs into the same file.
const START = '<!-- migrate:start -->';
const END = '<!-- migrate:end -->';
const block = `${START}\n${section.trimEnd()}\n${END}\n`;
if (results.includes(START) && results.includes(END)) {
  results = results.slice(0, results.indexOf(START)) + block + results.slice(results.indexOf(END) + END.length).replace(/^\n/, '');
} else if (results.includes('## Migrations')) {
  // Written before the markers existed: the section runs to the next heading or marker comment.
  const start = results.indexOf('## Migrations');
  const ends = [results.indexOf('\n## ', start + 1), results.indexOf('\n<!--', start + 1)].filter((i) => i !== -1);
  const end = ends.length > 0 ? Math.min(...ends) + 1 : results.length;
  results = results.slice(0, start) + block + (end < results.length ? `\n${results.slice(end)}` : '');
} else {
  results = `${results.trimEnd()}\n\n${block}`;
}
await writeFile(resultsPath, results);
process.stdout.write(`\n${section}`);
