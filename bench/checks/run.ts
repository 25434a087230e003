#!/usr/bin/env -S npx tsx
// Benchmark: 200 SQL checks of about 50 ms each (SELECT pg_sleep(0.05)) against a real
// Postgres server, run through the real check runner (parser guard, READ ONLY
// transaction, timeouts, the checks role, session audit and DISCARD ALL) at concurrency 1
// (sequential) and at higher concurrency. Not a test: it measures and records the ratio, nobody asserts it.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/checks/run.ts [--checks 200] [--runs 3]
//
// Writes the "Checks" section of bench/RESULTS.md between its markers. PGlite is not
// measured for speed-up: it is one session that every connection is multiplexed onto,
// so concurrent checks there queue one after another by design.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openServer } from '../../actions/engine/db/server.ts';
import { runChecks } from '../../actions/engine/checks/run-checks.ts';
import { checkAccess } from '../../actions/engine/checks/guard.ts';
import { grantChecksRole, prepareChecksRole } from '../../actions/engine/checks/checks-role.ts';
import type { ResolvedCheck } from '../../actions/engine/checks/types.ts';
import { DEFAULT_MIGRATION_SETTINGS, type Environment } from '../../actions/engine/config/model.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const { values } = parseArgs({ options: { checks: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' } } });
const COUNT = Number(values.checks);
const RUNS = Math.max(3, Number(values.runs));
const URL_TEXT = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LEVELS = [1, 4, 8, 16];

const checks: ResolvedCheck[] = Array.from({ length: COUNT }, (_, i) => ({
  name: `sleep ${i}`,
  spec: { name: `sleep ${i}`, sql: 'SELECT pg_sleep(0.05)', expect: { rows: 1 } },
  source: 'bench',
  conditions: [],
}));

const db = openServer(URL_TEXT, 'bench', 'rollout bench');
// What apply does first: the role the checks run as, readable schemas granted.
const env: Environment = { name: 'bench', file: 'bench', database: { kind: 'url', urlEnv: 'BENCH_DATABASE_URL' }, flags: new Map(), checks: [], monitors: [], migrations: DEFAULT_MIGRATION_SETTINGS };
const setup = await db.connect();
await prepareChecksRole(setup, env);
await grantChecksRole(setup, env);
await setup.end();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = new Map<number, number[]>(LEVELS.map((c) => [c, []]));
try {
  for (let run = 0; run < RUNS; run += 1) {
    for (const concurrency of LEVELS) {
      const started = performance.now();
      const report = await runChecks('bench', checks, { root: ROOT, processEnv: {}, access: checkAccess(env, db), flags: new Map(), concurrency });
      const ms = performance.now() - started;
      if (!report.ok) throw new Error(`a check failed: ${JSON.stringify(report.results.find((r) => r.status !== 'pass'))}`);
      times.get(concurrency)?.push(ms);
      console.log(`run ${run + 1}, concurrency ${concurrency}: ${ms.toFixed(0)} ms`);
    }
  }
} finally {
  await db.close();
}

const sequential = median(times.get(1) ?? []);
const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'pg', 'package.json'), 'utf8')) as { version: string };
const rows = LEVELS.map((c) => {
  const xs = times.get(c) ?? [];
  const m = median(xs);
  return `| ${c}${c === 4 ? ' (default)' : ''} | ${m.toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms | ${(m / sequential).toFixed(3)} | ${(sequential / m).toFixed(1)}× |`;
});
const section = `<!-- checks:start -->
## Checks

${COUNT} SQL checks of about 50 ms each (\`SELECT pg_sleep(0.05)\`, expect 1 row) through the real runner — parser guard, \`BEGIN READ ONLY\` with SET LOCAL timeouts and \`SET LOCAL ROLE rollout_checks\`, the extended protocol, ROLLBACK, the session audit and \`DISCARD ALL\`, one connection per worker — against a real Postgres server on loopback. Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs, Node ${process.version}, pg ${version}, by \`npx tsx bench/checks/run.ts\`; median of ${RUNS} runs per level. The pure sleep floor is ${COUNT} × 50 ms = ${(COUNT * 50 / 1000).toFixed(0)} s sequentially.

| concurrency | median | min | max | ratio to sequential | speed-up |
|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')}. The per-check overhead over the 50 ms sleep (sequential median / ${COUNT} − 50 ms) is ${(sequential / COUNT - 50).toFixed(1)} ms: four round trips (BEGIN + SET LOCALs + SET LOCAL ROLE, the query, ROLLBACK + session audit, DISCARD ALL) and the parse.

The embedded database (PGlite) is not in this table on purpose: it is a single Postgres session that pglite-socket multiplexes every connection onto, so the runner runs checks there one at a time whatever the concurrency (a check past its deadline restarts that session). Concurrency pays off only on a real server.
<!-- checks:end -->`;

let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
const start = text.indexOf('<!-- checks:start -->');
const end = text.indexOf('<!-- checks:end -->');
text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + '<!-- checks:end -->'.length) : `${text.trimEnd()}\n\n${section}\n`;
writeFileSync(RESULTS, text);
console.log(section);
