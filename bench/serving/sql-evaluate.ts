#!/usr/bin/env -S npx tsx
// Benchmark (3): one call of rollout.evaluate(flag_key, targeting_key, attributes) beside a
// plain `SELECT value FROM flags WHERE key = $1`, per call over one connection on a real
// server, both over 10,000 flags, rounds interleaved. The function and the view it reads are
// the engine's, installed as apply installs them (ensureToolSchema: EVALUATE_SQL over
// DEFINITIONS_SQL's rollout.flag_definitions, a view of rollout.flag_rollouts); the definitions
// are written straight into flag_rollouts' serving columns. Also measured, as
// comparison points: the same calls on canary flags only (every call hashes); the same rule as
// an inlinable LANGUAGE sql function (bench/serving/evaluate-inline-sql.sql), the design the
// engine's PL/pgSQL function was chosen over; and all three statements unprepared (a fresh
// plan per call, as node-pg without a statement name and psql do). Every function is checked
// against every row of test/serving/cases.ts before anything is timed.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/serving/sql-evaluate.ts [--calls 5000] [--runs 5]
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { SERVING_CASES } from '../../test/serving/cases.ts';
import { ensureToolSchema } from '../../actions/engine/store/tool-schema.ts';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
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

/** Definitions into the serving columns of rollout.flag_rollouts, as apply leaves them (one upsert). */
async function writeDefinitions(definitions: readonly FlagDefinition[]): Promise<void> {
  const rows = definitions.map((d) => ({ key: d.key, value: d.value, off_value: d.offValue, stage: d.stage, percent: d.percent, segments: d.segments, override: d.override ?? null, kill_switch: d.killSwitch }));
  await client.query(
    `INSERT INTO rollout.flag_rollouts (key, stage, percent, recorded_kind, ledger_id, value, off_value, segments, override, kill_switch)
     SELECT r.key, r.stage, r.percent, 'apply', 1, r.value, r.off_value, r.segments, r.override, r.kill_switch
       FROM jsonb_to_recordset($1::jsonb) AS r(key text, value jsonb, off_value jsonb, stage text, percent numeric, segments jsonb, override jsonb, kill_switch boolean)
     ON CONFLICT (key) DO UPDATE SET stage = EXCLUDED.stage, percent = EXCLUDED.percent, value = EXCLUDED.value, off_value = EXCLUDED.off_value,
       segments = EXCLUDED.segments, override = EXCLUDED.override, kill_switch = EXCLUDED.kill_switch`,
    [JSON.stringify(rows)],
  );
}
await client.query(readFileSync(join(ROOT, 'bench/serving/evaluate-inline-sql.sql'), 'utf8'));

const PLAIN = 'SELECT value FROM flags WHERE key = $1';
const EVALUATE = 'SELECT value, variant, reason, shadow_value FROM rollout.evaluate($1, $2, $3::jsonb)';
const EVALUATE_INLINE = 'SELECT value, variant, reason, shadow_value FROM rollout.evaluate_inline($1, $2, $3::jsonb)';

// The functions must give the rule's answers before their speed means anything.
for (const c of SERVING_CASES) {
  await writeDefinitions([c.definition]);
  const { targetingKey, ...attributes } = c.unit;
  const rule = evaluate(c.definition, c.unit);
  const want = JSON.stringify([rule.value, rule.variant, rule.reason, rule.shadowValue ?? null]);
  for (const text of [EVALUATE, EVALUATE_INLINE]) {
    const { rows } = await client.query<{ value: unknown; variant: string; reason: string; shadow_value: unknown }>(text, [c.definition.key, targetingKey ?? null, JSON.stringify(attributes)]);
    const got = JSON.stringify([rows[0]?.value, rows[0]?.variant, rows[0]?.reason, rows[0]?.shadow_value]);
    if (got !== want) throw new Error(`${text} disagrees with the rule on "${c.name}": ${got}, expected ${want}`);
  }
}
await client.query('TRUNCATE rollout.flag_rollouts');

const definitions = makeDefinitions(10_000);
const canaries = definitions.filter((d) => d.stage === 'canary');
await writeDefinitions(definitions);
await client.query('CREATE TABLE flags (key text PRIMARY KEY, value jsonb NOT NULL)');
await client.query('INSERT INTO flags SELECT key, value FROM rollout.flag_definitions');
await client.query('ANALYZE');
const units = makeUnits(10_000);

type Kind = 'plain' | 'evaluate' | 'evaluate-canary' | 'inline' | 'plain-unprepared' | 'evaluate-unprepared' | 'inline-unprepared';
const KINDS: readonly Kind[] = ['plain', 'evaluate', 'evaluate-canary', 'inline', 'plain-unprepared', 'evaluate-unprepared', 'inline-unprepared'];
const TEXT: Record<Kind, string> = {
  plain: PLAIN,
  evaluate: EVALUATE,
  'evaluate-canary': EVALUATE,
  inline: EVALUATE_INLINE,
  'plain-unprepared': PLAIN,
  'evaluate-unprepared': EVALUATE,
  'inline-unprepared': EVALUATE_INLINE,
};
// Unprepared calls are planned one by one and cost several times more: fewer of them per run.
const callsOf = (kind: Kind): number => (kind.endsWith('-unprepared') ? Math.max(100, Math.round(CALLS / 5)) : CALLS);

async function run(kind: Kind): Promise<number> {
  const calls = callsOf(kind);
  const prepared = !kind.endsWith('-unprepared');
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const key = (kind === 'evaluate-canary' ? canaries[(i * 7) % canaries.length] : definitions[(i * 7) % definitions.length]).key;
    const { targetingKey, ...attributes } = units[(i * 31) % units.length];
    const values = kind.startsWith('plain') ? [key] : [key, targetingKey, JSON.stringify(attributes)];
    await client.query(prepared ? { name: kind === 'evaluate-canary' ? 'evaluate' : kind, text: TEXT[kind], values } : { text: TEXT[kind], values });
  }
  return Number(process.hrtime.bigint() - started) / 1e3 / calls;
}

const loadBefore = loadavg();
for (const kind of KINDS) await run(kind); // warm-up: prepared statements, caches, generic plans
const times = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
for (let r = 0; r < RUNS; r++) {
  // Rotate the order every round, so that no kind always runs first or last.
  for (let k = 0; k < KINDS.length; k++) {
    const kind = KINDS[(k + r) % KINDS.length];
    times[kind].push(await run(kind));
  }
}
const loadAfter = loadavg();
const { rows: version } = await client.query<{ server_version: string }>('SHOW server_version');
await client.end();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();

const us = (x: number) => `${x.toFixed(0)} µs`;
const ratioOf = (kind: Kind, base: Kind) => median(times[kind]) / median(times[base]);
const row = (label: string, kind: Kind, base: Kind) => `| ${label} | ${us(median(times[kind]))} | ${us(Math.min(...times[kind]))} | ${us(Math.max(...times[kind]))} | ${ratioOf(kind, base).toFixed(2)}× |`;
const ratio = ratioOf('evaluate', 'plain');
const unpreparedRatio = ratioOf('evaluate-unprepared', 'plain-unprepared');
console.log(
  `rollout.evaluate / plain SELECT = ${ratio.toFixed(2)}× prepared (canary only ${ratioOf('evaluate-canary', 'plain').toFixed(2)}×, inlinable SQL ${ratioOf('inline', 'plain').toFixed(2)}×); ` +
    `${unpreparedRatio.toFixed(2)}× unprepared (inlinable SQL ${ratioOf('inline-unprepared', 'plain-unprepared').toFixed(2)}×)`,
);
writeSection(
  'serving-sql',
  `## Serving (3): rollout.evaluate per call

One call per round trip over one connection to PostgreSQL ${version[0].server_version} on loopback, over 10,000 flags (the serving workload: a quarter canaries, segments on dark flags and half the canaries) and 10,000 units; ${CALLS.toLocaleString('en-US')} calls per run for prepared statements, ${callsOf('plain-unprepared').toLocaleString('en-US')} for unprepared ones (planned on every call, as node-pg without a statement name and psql do); the seven kinds interleaved in rotating order, median of ${RUNS} runs. Function measured: the engine's \`rollout.evaluate\` (EVALUATE_SQL, PL/pgSQL) over the engine's \`rollout.flag_definitions\` (a view of \`rollout.flag_rollouts\`), both installed as apply installs them; beside it, the same rule as an inlinable LANGUAGE sql function (bench/serving/evaluate-inline-sql.sql). Each function was checked against every row of test/serving/cases.ts first. Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, by \`npx tsx bench/serving/sql-evaluate.ts\`; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} at end.

| statement | median per call | min | max | vs plain |
|---|---:|---:|---:|---:|
${row('`SELECT value FROM flags WHERE key = $1`, prepared', 'plain', 'plain')}
${row('`SELECT … FROM rollout.evaluate($1, $2, $3)`, prepared', 'evaluate', 'plain')}
${row('the same, canary flags only (every call hashes)', 'evaluate-canary', 'plain')}
${row('the same rule as an inlinable SQL function (comparison)', 'inline', 'plain')}
${row('`SELECT value FROM flags WHERE key = $1`, unprepared', 'plain-unprepared', 'plain-unprepared')}
${row('`rollout.evaluate`, unprepared', 'evaluate-unprepared', 'plain-unprepared')}
${row('the inlinable SQL function, unprepared (comparison)', 'inline-unprepared', 'plain-unprepared')}

Goal: rollout.evaluate ≤ 2× the plain read — ${ratio <= 2 ? 'met' : 'not met'} in this run with prepared statements (${ratio.toFixed(2)}×), ${unpreparedRatio <= 2 ? 'met' : 'not met'} unprepared (${unpreparedRatio.toFixed(2)}×).`,
);
