/**
 * rollout.measurements: every measurement `health` takes (not in a dry run), the evidence
 * the exit-criteria gate judges forward moves on. Rows are written set-based, in the
 * transaction of the action a breach took when there is one (a kill switch, a stage
 * rollback: ledger_id names it), otherwise on their own.
 */
import type pg from 'pg';
import { criteriaFor } from '../config/exit-criteria.ts';
import type { Environment } from '../config/model.ts';
import { lockEnvironment } from '../db/index.ts';
import type { Measurement, MeasuredVerdict } from '../stages/exit-gate.ts';
import type { LiveState } from '../store/live-state.ts';
import { ensureToolSchema } from '../store/tool-schema.ts';

export interface MeasurementRow {
  monitor: string;
  /** The flags whose exit criteria this measurement serves (at their live stage). */
  flags: readonly string[];
  verdict: MeasuredVerdict;
  value?: number | null;
  detail: string;
  /** The ledger entry of the action this breach took. */
  ledgerId?: number | null;
}

/** Insert the rows in one statement; `at` is the transaction's time. Call inside the action's transaction, if any. */
export async function insertMeasurements(client: pg.ClientBase, environment: string, rows: readonly MeasurementRow[]): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((r) => ({ monitor: r.monitor, flags: r.flags, verdict: r.verdict, value: Number.isFinite(r.value) ? r.value : null, detail: r.detail, ledger_id: r.ledgerId ?? null }));
  await client.query(
    `INSERT INTO rollout.measurements (environment, monitor, flags, value, verdict, detail, ledger_id)
     SELECT $1, monitor, ARRAY(SELECT jsonb_array_elements_text(flags)), value, verdict, detail, ledger_id
       FROM jsonb_to_recordset($2::jsonb) AS r(monitor text, flags jsonb, value double precision, verdict text, detail text, ledger_id bigint)`,
    [environment, JSON.stringify(records)],
  );
}

/**
 * Make sure the table exists (a database an older release applied has none yet): the tool
 * schema is upgraded under the environment lock, as apply does it.
 */
export async function ensureMeasurementsTable(client: pg.ClientBase, env: Environment): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>("SELECT to_regclass('rollout.measurements') IS NOT NULL AS ok");
  if (rows[0]?.ok) return;
  const release = await lockEnvironment(client, env.name, env.migrations.advisoryLock);
  try {
    await ensureToolSchema(client);
  } finally {
    await release();
  }
}

/**
 * The measurements of these monitors taken at or after `since`, by monitor, oldest first;
 * empty on a database without the table (nothing was measured there).
 */
export async function readMeasurements(client: pg.ClientBase, environment: string, monitors: readonly string[], since: Date): Promise<Map<string, Measurement[]>> {
  const found = new Map<string, Measurement[]>();
  if (monitors.length === 0) return found;
  const { rows: present } = await client.query<{ ok: boolean }>("SELECT to_regclass('rollout.measurements') IS NOT NULL AS ok");
  if (!present[0]?.ok) return found;
  const { rows } = await client.query<{ monitor: string; at: Date; verdict: MeasuredVerdict; value: number | null; detail: string }>(
    `SELECT monitor, at, verdict, value, detail FROM rollout.measurements
      WHERE environment = $1 AND monitor = ANY($2::text[]) AND at >= $3 ORDER BY at, id`,
    [environment, monitors, since],
  );
  for (const row of rows) {
    const list = found.get(row.monitor) ?? [];
    list.push({ at: row.at, verdict: row.verdict, value: row.value, detail: row.detail });
    found.set(row.monitor, list);
  }
  return found;
}

/** The latest measurement with a value of each monitor strictly before `before`: the baselines of relative thresholds. */
export async function readBaselines(client: pg.ClientBase, environment: string, wanted: ReadonlyMap<string, Date>): Promise<Map<string, { value: number; at: Date }>> {
  const found = new Map<string, { value: number; at: Date }>();
  if (wanted.size === 0) return found;
  const { rows: present } = await client.query<{ ok: boolean }>("SELECT to_regclass('rollout.measurements') IS NOT NULL AS ok");
  if (!present[0]?.ok) return found;
  const records = JSON.stringify([...wanted].map(([monitor, before]) => ({ monitor, before: before.toISOString() })));
  const { rows } = await client.query<{ monitor: string; at: Date; value: number }>(
    `SELECT w.monitor, m.at, m.value
       FROM jsonb_to_recordset($2::jsonb) AS w(monitor text, before timestamptz)
       CROSS JOIN LATERAL (SELECT at, value FROM rollout.measurements
                            WHERE environment = $1 AND monitor = w.monitor AND at < w.before AND value IS NOT NULL
                            ORDER BY at DESC, id DESC LIMIT 1) m`,
    [environment, records],
  );
  for (const row of rows) found.set(row.monitor, { at: row.at, value: row.value });
  return found;
}

/** What the plan's exit-criteria gates need: the measurements of every criterion of a live flag, since the earliest of their moves. */
export async function readCriteriaMeasurements(client: pg.ClientBase, env: Environment, live: LiveState): Promise<Map<string, Measurement[]>> {
  const monitors = new Set<string>();
  let since: Date | undefined;
  for (const [key, rollout] of live.rollouts) {
    const { criteria } = criteriaFor(env, key, rollout.stage);
    if (criteria.length === 0 || !rollout.stageSince) continue;
    for (const c of criteria) monitors.add(c.monitor);
    if (!since || rollout.stageSince < since) since = rollout.stageSince;
  }
  return since ? readMeasurements(client, env.name, [...monitors], since) : new Map();
}
