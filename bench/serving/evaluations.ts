#!/usr/bin/env -S npx tsx
// Benchmark (1): in-process evaluations per second, 10,000 flags (a quarter of them canaries),
// rollout's provider beside @openfeature/flagd-core evaluating `rollout export`'s flagd file
// of the same definitions, in the same process, interleaved rounds. Two levels each:
//   core: the evaluator alone (rollout's DefinitionSet.resolve vs FlagdCore.resolve)
//   SDK:  through an OpenFeature client (RolloutProvider, loaded from a real database, vs a
//         provider that answers with FlagdCore, which is what flagd's in-process provider does)
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/serving/evaluations.ts [--evaluations 200000] [--runs 5]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FlagdCore, MemoryStorage } from '@openfeature/flagd-core';
import { OpenFeature, type EvaluationContext, type JsonValue, type Logger, type Provider, type ResolutionDetails } from '@openfeature/server-sdk';
import { toFlagd } from '../../actions/engine/export/flagd.ts';
import { DefinitionSet } from '../../packages/provider/src/evaluator.ts';
import { RolloutProvider } from '../../packages/provider/src/provider.ts';
import { installDefinitions, writeDefinitions } from '../../test/serving/support/definitions.ts';
import { makeDefinitions, makeUnits, median, writeSection } from './workload.ts';

const { values } = parseArgs({ options: { evaluations: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, flags: { type: 'string', default: '10000' } } });
const N = Number(values.evaluations);
const RUNS = Math.max(3, Number(values.runs));
const FLAGS = Number(values.flags);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

const definitions = makeDefinitions(FLAGS);
const units = makeUnits(10_000) as EvaluationContext[];
const keys = definitions.map((d) => d.key);
const types = definitions.map((d) => (typeof d.value === 'boolean' ? 'boolean' : 'object'));

// rollout's evaluator, filled as the sync fills it (rows as pg returns them).
const ours = new DefinitionSet();
ours.replaceAll(definitions.map((d) => ({ key: d.key, value: d.value, off_value: d.offValue, stage: d.stage, percent: String(d.percent), segments: d.segments, override: null, kill_switch: d.killSwitch, ledger_id: String(d.ledgerId) })));
// flagd-core over the exported file.
const exported = toFlagd(definitions, { environment: 'bench' });
if (exported.problems.length > 0) throw new Error(`export problems: ${JSON.stringify(exported.problems.slice(0, 3))}`);
const flagd = new FlagdCore(new MemoryStorage(quiet), quiet);
flagd.setConfigurations(JSON.stringify(exported.document));

class FlagdCoreProvider implements Provider {
  readonly metadata = { name: 'flagd-core' };
  readonly runsOn = 'server';
  resolveBooleanEvaluation(key: string, fallback: boolean, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(flagd.resolveBooleanEvaluation(key, fallback, context, logger));
  }
  resolveStringEvaluation(key: string, fallback: string, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<string>> {
    return Promise.resolve(flagd.resolveStringEvaluation(key, fallback, context, logger));
  }
  resolveNumberEvaluation(key: string, fallback: number, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<number>> {
    return Promise.resolve(flagd.resolveNumberEvaluation(key, fallback, context, logger));
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<T>> {
    return Promise.resolve(flagd.resolveObjectEvaluation(key, fallback, context, logger));
  }
}

// A database with the same definitions, for the provider proper.
const name = `rollout_bench_serving_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name}`);
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const writer = new pg.Client({ connectionString: url.toString() });
await writer.connect();
await installDefinitions(writer);
await writeDefinitions(writer, definitions);
const provider = new RolloutProvider({ connectionString: url.toString(), pollIntervalMs: 3_600_000 });
await OpenFeature.setProviderAndWait('rollout', provider);
await OpenFeature.setProviderAndWait('flagd-core', new FlagdCoreProvider());
const rolloutClient = OpenFeature.getClient('rollout');
const flagdClient = OpenFeature.getClient('flagd-core');

let sink = 0;
function runCore(kind: 'rollout' | 'flagd'): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const f = i % keys.length;
    const unit = units[(i * 31) % units.length];
    const result = kind === 'rollout' ? ours.resolve(types[f], keys[f], null, unit, { stale: false }) : flagd.resolve(types[f], keys[f], null as never, unit, quiet);
    if (result.variant === 'on') sink++;
  }
  return N / (Number(process.hrtime.bigint() - started) / 1e9);
}
async function runSdk(kind: 'rollout' | 'flagd'): Promise<number> {
  const client = kind === 'rollout' ? rolloutClient : flagdClient;
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const f = i % keys.length;
    const unit = units[(i * 31) % units.length];
    const details = types[f] === 'boolean' ? await client.getBooleanDetails(keys[f], false, unit) : await client.getObjectDetails(keys[f], {}, unit);
    if (details.variant === 'on') sink++;
  }
  return N / (Number(process.hrtime.bigint() - started) / 1e9);
}

// Same answers first: a benchmark of two evaluators that disagree would mean nothing.
let disagreements = 0;
for (let i = 0; i < 20_000; i++) {
  const f = i % keys.length;
  const unit = units[(i * 31) % units.length];
  const a = ours.resolve(types[f], keys[f], null, unit, { stale: false });
  const b = flagd.resolve(types[f], keys[f], null as never, unit, quiet);
  if (JSON.stringify(a.value) !== JSON.stringify(b.value) || a.variant !== b.variant) disagreements++;
}
if (disagreements > 0) throw new Error(`rollout and flagd-core disagree on ${disagreements} of 20,000 evaluations`);

const loadBefore = loadavg();
runCore('rollout');
runCore('flagd'); // warm-up
const results = { coreRollout: [] as number[], coreFlagd: [] as number[], sdkRollout: [] as number[], sdkFlagd: [] as number[] };
for (let run = 0; run < RUNS; run++) {
  // Alternate who goes first, so that a change of load during a round does not favour one side.
  for (const kind of run % 2 === 0 ? (['rollout', 'flagd'] as const) : (['flagd', 'rollout'] as const)) {
    (kind === 'rollout' ? results.coreRollout : results.coreFlagd).push(runCore(kind));
  }
  for (const kind of run % 2 === 0 ? (['flagd', 'rollout'] as const) : (['rollout', 'flagd'] as const)) {
    (kind === 'rollout' ? results.sdkRollout : results.sdkFlagd).push(await runSdk(kind));
  }
}
const loadAfter = loadavg();
await OpenFeature.close();
await writer.end();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();

const fmt = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;
const row = (label: string, xs: number[], base: number[]) => `| ${label} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} | ${fmt(Math.max(...xs))} | ${(median(xs) / median(base)).toFixed(2)}× |`;
const coreRatio = median(results.coreRollout) / median(results.coreFlagd);
const sdkRatio = median(results.sdkRollout) / median(results.sdkFlagd);
writeSection(
  'serving-evaluations',
  `## Serving (1): in-process evaluations per second

${FLAGS.toLocaleString('en-US')} flags (40 % plain, 10 % off, 10 % dark, 10 % shadow, 25 % canary at 1–50 %, 5 % full; segments on dark flags and half the canaries), ${N.toLocaleString('en-US')} evaluations per run over 10,000 units, rollout beside \`@openfeature/flagd-core\` 4.0.1 evaluating \`rollout export\`'s flagd file of the same definitions, in one process, rounds interleaved with alternating order, median of ${RUNS}. Both give the same value and variant on a 20,000-evaluation sample checked first. Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, by \`npx tsx bench/serving/evaluations.ts\`; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} at end.

| evaluator | median | min | max | vs flagd-core |
|---|---:|---:|---:|---:|
${row('rollout, evaluator alone (DefinitionSet.resolve)', results.coreRollout, results.coreFlagd)}
${row('flagd-core, evaluator alone (FlagdCore.resolve)', results.coreFlagd, results.coreFlagd)}
${row('rollout, through an OpenFeature client (RolloutProvider)', results.sdkRollout, results.sdkFlagd)}
${row('flagd-core, through an OpenFeature client (in-process provider)', results.sdkFlagd, results.sdkFlagd)}

Goal: rollout ≥ 1.0× flagd-core — ${coreRatio >= 1 && sdkRatio >= 1 ? 'met' : 'not met'} in this run (${coreRatio.toFixed(2)}× alone, ${sdkRatio.toFixed(2)}× through the SDK, where the SDK's hooks and context merging cost both the same).`,
);
if (sink < 0) console.log(sink);
