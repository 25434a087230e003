#!/usr/bin/env -S npx tsx
// Benchmark (2): time from the COMMIT of a definitions change to the provider's
// PROVIDER_CONFIGURATION_CHANGED for that flag (NOTIFY delivered, the key re-read in one
// statement, parsed, event emitted), median and p99 over 200 changes, beside a bare
// LISTEN/NOTIFY round trip measured in the same run: the same write and NOTIFY in one
// transaction, to a plain pg client that LISTENs. Changes and bare round trips alternate.
// The provider holds 10,000 definitions; its periodic re-read is off (an hour), so only
// NOTIFY can deliver (the bare pairs notify another channel: the provider does not see them).
// The clock starts when COMMIT is sent.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/serving/propagation.ts [--changes 200]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ProviderEvents, type EventDetails } from '@openfeature/server-sdk';
import { RolloutProvider } from '../../packages/provider/src/provider.ts';
import { installDefinitions, noticePayload, writeDefinitions } from '../../test/serving/support/definitions.ts';
import { makeDefinitions, median, percentile, writeSection } from './workload.ts';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '200' }, flags: { type: 'string', default: '10000' } } });
const CHANGES = Number(values.changes);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const name = `rollout_bench_propagation_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name}`);
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const writer = new pg.Client({ connectionString: url.toString() });
await writer.connect();
await installDefinitions(writer);
const definitions = makeDefinitions(Number(values.flags));
await writeDefinitions(writer, definitions);
const { rows: version } = await writer.query<{ server_version: string }>('SHOW server_version');

const provider = new RolloutProvider({ connectionString: url.toString(), pollIntervalMs: 3_600_000 });
await provider.initialize();
const listener = new pg.Client({ connectionString: url.toString() });
await listener.connect();
await listener.query('LISTEN bench_bare');

const UPSERT = `INSERT INTO rollout.fixture_ledger DEFAULT VALUES RETURNING id`;
const WRITE = `UPDATE rollout.fixture_definitions SET percent = $2, ledger_id = $3, updated_at = clock_timestamp() WHERE key = $1`;

/** One change as the writer makes it: ledger row, definition, NOTIFY, COMMIT; resolves with ms from COMMIT sent to `arrived`. */
async function change(key: string, percent: number, channel: string, arrived: Promise<bigint>): Promise<number> {
  await writer.query('BEGIN');
  const ledgerId = Number((await writer.query<{ id: string }>(UPSERT)).rows[0].id);
  await writer.query(WRITE, [key, percent, ledgerId]);
  await writer.query('SELECT pg_notify($1, $2)', [channel, noticePayload(ledgerId, [key])]);
  const started = process.hrtime.bigint();
  await writer.query('COMMIT');
  return Number((await arrived) - started) / 1e6;
}

function providerEvent(key: string): Promise<bigint> {
  return new Promise((resolve) => {
    const handler = (details?: EventDetails) => {
      if (!(details as { flagsChanged?: string[] } | undefined)?.flagsChanged?.includes(key)) return;
      const at = process.hrtime.bigint();
      provider.events.removeHandler(ProviderEvents.ConfigurationChanged, handler);
      resolve(at);
    };
    provider.events.addHandler(ProviderEvents.ConfigurationChanged, handler);
  });
}

function bareNotification(): Promise<bigint> {
  return new Promise((resolve) => listener.once('notification', () => resolve(process.hrtime.bigint())));
}

const canaries = definitions.filter((d) => d.stage === 'canary');
const ours: number[] = [];
const bare: number[] = [];
const loadBefore = loadavg();
for (let i = 0; i < CHANGES + 10; i++) {
  const target = canaries[i % canaries.length];
  const percent = i % 2 === 0 ? 30 : 20;
  const a = await change(target.key, percent, 'rollout_flags', providerEvent(target.key));
  const other = canaries[(i + 1) % canaries.length];
  const b = await change(other.key, percent, 'bench_bare', bareNotification());
  if (i >= 10) {
    ours.push(a);
    bare.push(b);
  }
}
const loadAfter = loadavg();
await provider.onClose();
await listener.end();
await writer.end();
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();

const ms = (x: number) => `${x.toFixed(2)} ms`;
const medianRatio = median(ours) / median(bare);
const p99Ratio = percentile(ours, 99) / percentile(bare, 99);
writeSection(
  'serving-propagation',
  `## Serving (2): from COMMIT to the provider's change event

${CHANGES} definition changes (a canary's percent, one flag each, with its ledger row and NOTIFY in one transaction) to a database of ${definitions.length.toLocaleString('en-US')} definitions, each timed from sending COMMIT to the provider's \`PROVIDER_CONFIGURATION_CHANGED\` naming the flag (NOTIFY delivered, the key re-read with the view's summary in one statement, parsed, event emitted); alternating with the same transaction notifying a plain \`pg\` client that LISTENs (the bare round trip). 10 warm-up pairs not counted. Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, PostgreSQL ${version[0].server_version} on loopback, by \`npx tsx bench/serving/propagation.ts\`; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} at end.

| path | median | p99 | min | max |
|---|---:|---:|---:|---:|
| provider: COMMIT → change event | ${ms(median(ours))} | ${ms(percentile(ours, 99))} | ${ms(Math.min(...ours))} | ${ms(Math.max(...ours))} |
| bare LISTEN/NOTIFY: COMMIT → notification | ${ms(median(bare))} | ${ms(percentile(bare, 99))} | ${ms(Math.min(...bare))} | ${ms(Math.max(...bare))} |
| ratio | ${medianRatio.toFixed(2)}× | ${p99Ratio.toFixed(2)}× | | |

Goal: ≤ 2× the bare round trip — ${medianRatio <= 2 && p99Ratio <= 2 ? 'met' : medianRatio <= 2 ? 'met at the median, not at p99' : 'not met'} in this run. The difference is one round trip (the re-read of the changed key) plus parsing it.`,
);
