#!/usr/bin/env -S npx tsx
// Benchmark: what the hash chain costs. Appends N ledger entries of 5 changes each through
// appendLedger (advisory xact lock, nextval, chain tip, hash, insert) and, side by side in the
// same run and database server, through the two plain INSERTs the ledger used before the chain;
// then times the full chain walk (rollout audit, health) and the quick check (plan, status).
// Not a test: it measures and records, nobody asserts it.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/ledger/run.ts [--entries 2000] [--runs 3]
//
// Writes the "Ledger chain" section of bench/RESULTS.md between its markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureToolSchema } from '../../actions/engine/store/tool-schema.ts';
import { appendLedger, type LedgerChange, type LedgerMeta } from '../../actions/engine/store/ledger.ts';
import { auditLedger } from '../../actions/engine/store/ledger-audit.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const { values } = parseArgs({ options: { entries: { type: 'string', default: '2000' }, runs: { type: 'string', default: '3' } } });
const N = Number(values.entries);
const RUNS = Math.max(3, Number(values.runs));
const URL_TEXT = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const meta = (i: number, environment: string): LedgerMeta => ({ environment, kind: 'apply', actor: 'bench', commit: 'c'.repeat(40), pullRequest: i, planHash: 'f'.repeat(64), outcome: 'applied', summary: { flags: 5 } });
const changes = (i: number): LedgerChange[] =>
  Array.from({ length: 5 }, (_, k) => ({ subject: 'flag', key: `flag.${k}`, action: 'change', oldValue: { enabled: false, v: i }, newValue: { enabled: true, v: i + 1 }, oldStage: 'canary', newStage: 'full', oldPercent: 25, newPercent: null }));

/** The ledger write before the chain (commit 67a78d6): one INSERT for the entry, one for its changes. */
async function plainAppend(client: pg.Client, m: LedgerMeta, cs: LedgerChange[]): Promise<void> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO rollout.ledger (environment, kind, actor, commit_sha, pull_request, plan_hash, outcome, reason, summary)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING id`,
    [m.environment, m.kind, m.actor, m.commit, m.pullRequest, m.planHash, m.outcome, m.reason ?? null, JSON.stringify(m.summary ?? {})],
  );
  const records = cs.map((c, ordinal) => ({ ordinal, subject: c.subject, key: c.key, action: c.action, old_value: c.oldValue ?? null, new_value: c.newValue ?? null, old_stage: c.oldStage ?? null, new_stage: c.newStage ?? null, old_percent: c.oldPercent ?? null, new_percent: c.newPercent ?? null }));
  await client.query(
    `INSERT INTO rollout.ledger_changes (ledger_id, ordinal, subject, key, action, old_value, new_value, old_stage, new_stage, old_percent, new_percent)
     SELECT $1, ordinal, subject, key, action, old_value, new_value, old_stage, new_stage, old_percent, new_percent
       FROM jsonb_to_recordset($2::jsonb) AS r(ordinal int, subject text, key text, action text, old_value jsonb, new_value jsonb, old_stage text, new_stage text, old_percent numeric, new_percent numeric)`,
    [rows[0].id, JSON.stringify(records)],
  );
}

const database = `rollout_bench_ledger_${process.pid}`;
const admin = new pg.Client({ connectionString: URL_TEXT });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const url = new URL(URL_TEXT);
url.pathname = `/${database}`;
const client = new pg.Client({ connectionString: url.toString() });
const times = { chained: [] as number[], plain: [] as number[], full: [] as number[], quick: [] as number[] };
try {
  await client.connect();
  await ensureToolSchema(client);
  for (let run = 0; run < RUNS; run += 1) {
    for (const [name, append] of [['chained', (i: number) => appendLedger(client, meta(i, `chained-${run}`), changes(i))], ['plain', (i: number) => plainAppend(client, meta(i, `plain-${run}`), changes(i))]] as const) {
      const started = performance.now();
      for (let i = 0; i < N; i += 1) {
        await client.query('BEGIN');
        await append(i);
        await client.query('COMMIT');
      }
      times[name].push((performance.now() - started) / N);
    }
    let started = performance.now();
    const full = await auditLedger(client, `chained-${run}`);
    times.full.push(performance.now() - started);
    started = performance.now();
    const quick = await auditLedger(client, `chained-${run}`, { quick: true });
    times.quick.push(performance.now() - started);
    if (!full.ok || !quick.ok || full.entries !== N) throw new Error('the chain the benchmark wrote does not audit clean');
    console.log(`run ${run + 1}: append ${times.chained.at(-1)?.toFixed(2)} vs ${times.plain.at(-1)?.toFixed(2)} ms/entry; audit ${times.full.at(-1)?.toFixed(0)} ms, quick ${times.quick.at(-1)?.toFixed(0)} ms`);
  }
} finally {
  await client.end().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}

const section = `<!-- ledger:start -->
## Ledger chain

${N} ledger entries of 5 changes each, each in its own transaction, against a real Postgres server on loopback: through \`appendLedger\` (transaction lock, \`nextval\`, chain tip, sha256 over canonical JSON, insert) and, side by side in the same run, through the two plain INSERTs the ledger used before the chain. Then the chain walked whole (\`rollout audit\`, \`health\`) and the quick check (\`plan\`, \`status\`: every link in SQL, the latest 100 entries hashed again). Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs, Node ${process.version}, by \`npx tsx bench/ledger/run.ts\`; median of ${RUNS} runs.

| | median | ratio |
|---|---:|---:|
| append, chained | ${median(times.chained).toFixed(2)} ms/entry | ${(median(times.chained) / median(times.plain)).toFixed(2)} |
| append, plain INSERTs (before the chain) | ${median(times.plain).toFixed(2)} ms/entry | 1.00 |
| full audit of ${N} entries | ${median(times.full).toFixed(0)} ms | ${(median(times.full) / median(times.quick)).toFixed(1)} |
| quick check (plan, status) | ${median(times.quick).toFixed(0)} ms | 1.0 |

Load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.
<!-- ledger:end -->`;

let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
const start = text.indexOf('<!-- ledger:start -->');
const end = text.indexOf('<!-- ledger:end -->');
text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + '<!-- ledger:end -->'.length) : `${text.trimEnd()}\n\n${section}\n`;
writeFileSync(RESULTS, text);
console.log(section);
