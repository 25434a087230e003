/**
 * Break-glass latency: time from the start of `rollout kill` (a process, as an operator runs
 * it) to its exit after the commit, with the environment idle and while an apply of the same
 * environment runs a long migration. Goal (issue 13): busy median ≤ 1.5× idle median.
 *
 *   npm run build && BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/breakglass/kill-latency.ts [--runs 20] [--migration-seconds 60] [--write]
 *
 * Every kill writes (the value alternates between on and off), so each one is a flag
 * transaction with its ledger row. Each run checks, from pg_stat_activity, that the migration
 * was still running when the kill exited; a busy run where it was not is discarded and retried.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, 'migration-seconds': { type: 'string', default: '60' }, write: { type: 'boolean', default: false } },
});
const RUNS = Number(args.runs);
const MIGRATION_SECONDS = Number(args['migration-seconds']);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI = resolve('bin/rollout.js');
const URL_ENV = 'BENCH_KILL_URL';
const MARKER = 'bench_kill_long_migration';

const name = `rollout_bench_kill_${process.pid}`;
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${name}`;
const root = await mkdtemp(join(tmpdir(), 'rollout-bench-kill-'));
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);

const processEnv = { ...process.env, [URL_ENV]: dbUrl.toString(), };
let apply: { child: ChildProcess; exited: Promise<void> } | undefined;
try {
  await mkdir(join(root, 'environments'), { recursive: true });
  await mkdir(join(root, 'migrations'), { recursive: true });
  await writeFile(
    join(root, 'environments', 'production.yaml'),
    `version: 1\ndatabase:\n  url_env: ${URL_ENV}\nflags:\n  shop.safe_mode:\n    value: { enabled: false }\n    kill_switch: true\n` +
      Array.from({ length: 50 }, (_, i) => `  shop.flag_${i}:\n    value: { enabled: ${i % 2 === 0} }\n`).join(''),
  );
  await run(['apply', '--env', 'production', '--no-verify']);

  let on = false;
  const kill = async (): Promise<number> => {
    on = !on;
    const started = performance.now();
    await run(['kill', '--env', 'production', '--flag', 'shop.safe_mode', '--reason', 'bench', '--value', JSON.stringify({ enabled: on })]);
    return performance.now() - started;
  };

  await kill(); // warm the disk cache and the server's plan cache; not counted
  const idle: number[] = [];
  for (let i = 0; i < RUNS; i++) idle.push(await kill());

  const busy: number[] = [];
  let version = 0;
  let discarded = 0;
  while (busy.length < RUNS) {
    if (!(await migrationRunning())) {
      await apply?.exited;
      apply = await startLongApply(++version);
      await waitUntil(migrationRunning);
    }
    const ms = await kill();
    if (await migrationRunning()) busy.push(ms);
    else discarded++;
  }
  const idleMedian = median(idle);
  const busyMedian = median(busy);
  const ratio = busyMedian / idleMedian;
  const result = { runs: RUNS, migrationSeconds: MIGRATION_SECONDS, idle, busy, idleMedian, busyMedian, ratio, discarded };
  console.log(JSON.stringify({ idleMedian: round(idleMedian), busyMedian: round(busyMedian), ratio: Number(ratio.toFixed(2)), discarded }));
  if (args.write) await writeResults(result);
} finally {
  apply?.child.kill('SIGKILL');
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
  await rm(root, { recursive: true, force: true });
}

/** An apply of a new migration that sleeps MIGRATION_SECONDS: it holds the environment lock all that time. */
async function startLongApply(n: number): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  await writeFile(join(root, 'migrations', `${String(20260101000000 + n)}_long.sql`), `SELECT pg_sleep(${MIGRATION_SECONDS}) AS ${MARKER};\n`);
  const child = spawn(process.execPath, [CLI, '--root', root, 'apply', '--env', 'production', '--no-verify'], { env: processEnv, stdio: 'ignore' });
  return { child, exited: new Promise((done) => child.once('exit', () => done())) };
}

async function migrationRunning(): Promise<boolean> {
  const { rows } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE $2", [name, `%${MARKER}%`]);
  return rows.length > 0;
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the long migration did not start within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(argv: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, '--root', root, ...argv], { env: processEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`rollout ${argv.join(' ')} exited ${code}: ${stderr}`))));
  });
}

function round(ms: number): number {
  return Math.round(ms);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function writeResults(r: { runs: number; migrationSeconds: number; idle: number[]; busy: number[]; idleMedian: number; busyMedian: number; ratio: number; discarded: number }): Promise<void> {
  const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');
  const section = [
    '<!-- breakglass:start -->',
    '## Break-glass while a migration runs',
    '',
    `Time from the start of \`rollout kill\` (a process: \`node bin/rollout.js kill --env production --flag shop.safe_mode …\`, start-up included) to its exit after the commit of the flag and its ledger row, median of ${r.runs}: with the environment idle, and while \`rollout apply\` of the same environment runs a ${r.migrationSeconds} s migration (it holds the environment lock throughout). Each busy run was checked to end while the migration still ran (${r.discarded} discarded). Produced by \`npx tsx bench/breakglass/kill-latency.ts --write\`.`,
    '',
    `Machine: ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, PostgreSQL ${rows[0]?.server_version ?? '?'} on localhost. Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')} at the end.`,
    '',
    '| case | median | min | max | runs |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| idle | ${round(r.idleMedian)} ms | ${round(Math.min(...r.idle))} ms | ${round(Math.max(...r.idle))} ms | ${r.idle.length} |`,
    `| during a ${r.migrationSeconds} s migration | ${round(r.busyMedian)} ms | ${round(Math.min(...r.busy))} ms | ${round(Math.max(...r.busy))} ms | ${r.busy.length} |`,
    '',
    `Busy / idle: **${r.ratio.toFixed(2)}×** (goal ≤ 1.5×: ${r.ratio <= 1.5 ? 'met' : 'not met'}).`,
    '<!-- breakglass:end -->',
  ].join('\n');
  const file = resolve('bench/RESULTS.md');
  const text = await readFile(file, 'utf8');
  const start = text.indexOf('<!-- breakglass:start -->');
  const end = text.indexOf('<!-- breakglass:end -->');
  const next = start >= 0 && end > start ? `${text.slice(0, start)}${section}${text.slice(end + '<!-- breakglass:end -->'.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next);
}
