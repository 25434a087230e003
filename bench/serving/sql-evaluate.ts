#!/usr/bin/env -S npx tsx
// Benchmark (3): one call of rollout.evaluate(flag_key, targeting_key, attributes) beside a
// plain `SELECT value FROM flags WHERE key = $1`, per call over one connection on a real
// server, both over 10,000 flags, rounds interleaved. The function is the engine's when this
// tree has it (rollout.evaluate after installing the tool schema); otherwise
// bench/serving/evaluate-standin.sql, checked first against every row of test/serving/cases.ts
// (the section says which one was measured).
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/serving/sql-evaluate.ts [--calls 5000] [--runs 5]
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureToolSchema } from '../../actions/engine/store/tool-schema.ts';
import { BUCKETING_SQL } from '../../actions/engine/bucketing/bucketing-sql.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { SERVING_CASES } from '../../test/serving/cases.ts';
import { installDefinitions, writeDefinitions } from '../../test/serving/support/definitions.ts';
import { ROOT, makeDefinitions, makeUnits, median, writeSection } from './workload.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000' }, runs: { type: 'string', default: '5' } } });
const CALLS = Number(values.calls);
const RUNS = Math.max(3, Number(values.runs));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const name = `rollout_bench_evaluate_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name}`);
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const client = new pg.Client({ connectionString: url.toString() });
await client.connect();
await ensureToolSchema(client);
const engineHasIt = (await client.query<{ f: string | null }>(`SELECT to_regprocedure('rollout.evaluate(text,text,jsonb)')::text AS f`)).rows[0].f !== null;
// The engine's definitions writer is not in this tree either: the contract fixture stands in for it.
await installDefinitions(client);
await client.query(BUCKETING_SQL);
if (!engineHasIt) await client.query(readFileSync(join(ROOT, 'bench/serving/evaluate-standin.sql'), 'utf8'));

// The function must give the rule's answers before its speed means anything.
const EVALUATE = 'SELECT value, variant, reason FROM rollout.evaluate($1, $2, $3::jsonb)';
for (const c of SERVING_CASES) {
  await writeDefinitions(client, [c.definition]);
  const { targetingKey, ...attributes } = c.unit;
  const { rows } = await client.query<{ value: unknown; variant: string; reason: string }>(EVALUATE, [c.definition.key, targetingKey ?? null, JSON.stringify(attributes)]);
  const rule = evaluate(c.definition, c.unit);
  if (JSON.stringify([rows[0]?.value, rows[0]?.variant, rows[0]?.reason]) !== JSON.stringify([rule.value, rule.variant, rule.reason])) throw new Error(`rollout.evaluate disagrees with the rule on "${c.name}": ${JSON.stringify(rows[0])}`);
}
await client.query('TRUNCATE rollout.fixture_definitions');

const definitions = makeDefinitions(10_000);
await writeDefinitions(client, definitions);
await client.query('CREATE TABLE flags (key text PRIMARY KEY, value jsonb NOT NULL)');
await client.query('INSERT INTO flags SELECT key, value FROM rollout.fixture_definitions');
await client.query('ANALYZE');
const units = makeUnits(10_000);

async function run(kind: 'evaluate' | 'plain'): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    const key = definitions[(i * 7) % definitions.length].key;
    if (kind === 'plain') await client.query({ name: 'plain', text: 'SELECT value FROM flags WHERE key = $1', values: [key] });
    else {
      const { targetingKey, ...attributes } = units[(i * 31) % units.length];
      await client.query({ name: 'evaluate', text: EVALUATE, values: [key, targetingKey, JSON.stringify(attributes)] });
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e3 / CALLS;
}

const loadBefore = loadavg();
await run('plain');
await run('evaluate');
const plain: number[] = [];
const evaluated: number[] = [];
for (let r = 0; r < RUNS; r++) {
  for (const kind of r % 2 === 0 ? (['plain', 'evaluate'] as const) : (['evaluate', 'plain'] as const)) (kind === 'plain' ? plain : evaluated).push(await run(kind));
}
const loadAfter = loadavg();
const { rows: version } = await client.query<{ server_version: string }>('SHOW server_version');
await client.end();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();

const us = (x: number) => `${x.toFixed(0)} µs`;
const ratio = median(evaluated) / median(plain);
writeSection(
  'serving-sql',
  `## Serving (3): rollout.evaluate per call

One call per round trip over one connection to PostgreSQL ${version[0].server_version} on loopback, ${CALLS.toLocaleString('en-US')} calls per run over 10,000 flags (the serving workload: a quarter canaries, segments on dark flags and half the canaries) and 10,000 units, both statements prepared, rounds interleaved with alternating order, median of ${RUNS}. Function measured: **${engineHasIt ? "the engine's rollout.evaluate" : 'the stand-in bench/serving/evaluate-standin.sql (the engine\'s function is not in this tree yet)'}**, over \`rollout.flag_definitions\` as the contract fixture of test/serving/support/definitions.ts creates it, checked against every row of test/serving/cases.ts first. Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, by \`npx tsx bench/serving/sql-evaluate.ts\`; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} at end.

| statement | median per call | min | max |
|---|---:|---:|---:|
| \`SELECT value, variant, reason FROM rollout.evaluate($1, $2, $3)\` | ${us(median(evaluated))} | ${us(Math.min(...evaluated))} | ${us(Math.max(...evaluated))} |
| \`SELECT value FROM flags WHERE key = $1\` | ${us(median(plain))} | ${us(Math.min(...plain))} | ${us(Math.max(...plain))} |
| ratio | ${ratio.toFixed(2)}× | | |

Goal: ≤ 2× the plain read — ${ratio <= 2 ? 'met' : 'not met'} in this run.`,
);
