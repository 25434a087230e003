/**
 * Health: `rollout health` (a process, start-up included) measuring 200 monitors that read
 * real views, each measurement written to rollout.measurements (the exit criteria of a canary
 * flag, so each row carries the flag), beside psql running the same 200 queries in one
 * session, alternating in the same run against the same database. Goal (issue 17): ≤ 1.5×.
 * Not a test: it measures and prints; --write records the result in bench/RESULTS.md.
 *
 *   npm run build && BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/health/run.ts [--monitors 200] [--rows 200] [--runs 7] [--write]
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({
  options: { monitors: { type: 'string', default: '200' }, rows: { type: 'string', default: '200' }, runs: { type: 'string', default: '7' }, write: { type: 'boolean', default: false } },
});
const MONITORS = Number(args.monitors);
const ROWS = Number(args.rows);
const RUNS = Math.max(3, Number(args.runs));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI = resolve('bin/rollout.js');
const URL_ENV = 'BENCH_HEALTH_URL';

const name = `rollout_bench_health_${process.pid}`;
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${name}`;
const root = await mkdtemp(join(tmpdir(), 'rollout-bench-health-'));
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const processEnv = { ...process.env, [URL_ENV]: dbUrl.toString() };
const view = (i: number): string => `public.vw_health_${i}`;
const query = (i: number): string => `SELECT p95_ms FROM ${view(i)}`;

try {
  // A table of requests per service, and one view per monitor over its slice of it (a p95, as SLO views compute).
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();
  await db.query(`CREATE TABLE public.requests (service int NOT NULL, latency_ms float8 NOT NULL, ok boolean NOT NULL);
    INSERT INTO public.requests SELECT s, 50 + (g * 7919 % 400), g % 97 <> 0 FROM generate_series(0, ${MONITORS - 1}) s, generate_series(1, ${ROWS}) g;
    CREATE INDEX ON public.requests (service); ANALYZE public.requests;`);
  for (let i = 0; i < MONITORS; i++) {
    await db.query(`CREATE VIEW ${view(i)} AS SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms FROM public.requests WHERE service = ${i}`);
  }
  await db.end();

  const names = Array.from({ length: MONITORS }, (_, i) => `p95 latency ${i}`);
  await mkdir(join(root, 'environments'), { recursive: true });
  await mkdir(join(root, 'migrations'), { recursive: true });
  await writeFile(
    join(root, 'environments', 'bench.yaml'),
    `version: 1\ndatabase:\n  url_env: ${URL_ENV}\nflags:\n  checkout.v2:\n    value: { enabled: true }\n    off_value: { enabled: false }\n    rollout: { stage: canary, percent: 5 }\n` +
      `    exit_criteria:\n      canary: [${names.map((n) => JSON.stringify(n)).join(', ')}]\nmonitors:\n` +
      names.map((n, i) => `  - name: ${JSON.stringify(n)}\n    sql: ${query(i)}\n    above: 1000\n`).join(''),
  );
  await writeFile(join(root, 'queries.sql'), `${names.map((_, i) => `${query(i)};`).join('\n')}\n`);
  await run(process.execPath, [CLI, '--root', root, 'apply', '--env', 'bench', '--no-verify']);

  const health = async (): Promise<number> => {
    const started = performance.now();
    await run(process.execPath, [CLI, '--root', root, 'health', '--env', 'bench', '--format', 'json']);
    return performance.now() - started;
  };
  const psql = async (): Promise<number> => {
    const started = performance.now();
    await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl.toString(), '-f', join(root, 'queries.sql'), '-o', '/dev/null']);
    return performance.now() - started;
  };
  const bareNode = async (): Promise<number> => {
    const started = performance.now();
    await run(process.execPath, ['-e', '0']);
    return performance.now() - started;
  };

  await health(); // warm: the disk cache, the server's catalog caches; not counted
  await psql();
  const times = { health: [] as number[], psql: [] as number[], node: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    times.health.push(await health());
    times.psql.push(await psql());
    times.node.push(await bareNode());
  }
  const check = new pg.Client({ connectionString: dbUrl.toString() });
  await check.connect();
  const { rows } = await check.query<{ n: number; flagged: number }>("SELECT count(*)::int AS n, count(*) FILTER (WHERE flags = '{checkout.v2}')::int AS flagged FROM rollout.measurements");
  await check.end();
  const expected = (RUNS + 1) * MONITORS;
  if (rows[0].n !== expected || rows[0].flagged !== expected) throw new Error(`expected ${expected} measurements carrying the flag, found ${rows[0].n} (${rows[0].flagged} with it)`);
  const result = { health: median(times.health), psql: median(times.psql), node: median(times.node), times };
  console.log(JSON.stringify({ healthMedian: Math.round(result.health), psqlMedian: Math.round(result.psql), nodeMedian: Math.round(result.node), ratio: Number((result.health / result.psql).toFixed(2)), measurements: rows[0].n }));
  if (args.write) await writeResults(result);
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
  await rm(root, { recursive: true, force: true });
}

function run(command: string, argv: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, argv, { env: processEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${command} ${argv.slice(0, 4).join(' ')} … exited ${code}: ${stderr.slice(0, 2000)}`))));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function writeResults(r: { health: number; psql: number; node: number; times: Record<string, number[]> }): Promise<void> {
  const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');
  const line = (label: string, xs: number[]): string => `| ${label} | ${Math.round(median(xs))} ms | ${Math.round(Math.min(...xs))} ms | ${Math.round(Math.max(...xs))} ms |`;
  const section = [
    '<!-- health:start -->',
    '## Health',
    '',
    `\`rollout health\` as a process (\`node bin/rollout.js health --env bench\`, start-up included) measuring ${MONITORS} monitors, each \`SELECT p95_ms FROM public.vw_health_N\` (a view computing a p95 over its service's ${ROWS} rows), through the read-only guard, with every measurement written to \`rollout.measurements\` (they are the exit criteria of a canary flag, so each row carries it); beside \`psql -X -f\` running the same ${MONITORS} queries in one session; alternating, median of ${RUNS} each. Produced by \`npx tsx bench/health/run.ts --write\`. Goal (issue 17): ≤ 1.5×.`,
    '',
    `Machine: ${cpus().length} CPU(s), Node ${process.version}, PostgreSQL ${rows[0]?.server_version ?? '?'} on localhost. Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')} at the end.`,
    '',
    '| case | median | min | max |',
    '| --- | ---: | ---: | ---: |',
    line(`rollout health, ${MONITORS} monitors`, r.times.health),
    line(`psql, the same ${MONITORS} queries`, r.times.psql),
    line('bare `node -e 0`', r.times.node),
    '',
    `Ratio health / psql: **${(r.health / r.psql).toFixed(2)}×**.`,
    '<!-- health:end -->',
  ].join('\n');
  const file = resolve('bench/RESULTS.md');
  let text = await readFile(file, 'utf8');
  const start = text.indexOf('<!-- health:start -->');
  const end = text.indexOf('<!-- health:end -->');
  text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + '<!-- health:end -->'.length) : `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, text);
}
