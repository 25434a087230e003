/**
 * The ledger: one row per action on live state (apply, rollback, break-glass, revert, restore),
 * with one row per change, each entry hash-chained to the one before it (ledger-chain.ts).
 * Written in the same transaction as the changes it records.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { JsonValue } from '../config/model.ts';
import { asStored, chainTip, entryDigest, type ChainEntry } from './ledger-chain.ts';

/**
 * The kinds this version writes. A rollback by PR is an apply like any other (its changes say
 * the stage went back). The table's check (tool-schema.ts) still admits 'rollback', which the
 * first release listed and never wrote: narrowing it would rewrite the constraint of every
 * existing ledger for nothing.
 */
export type LedgerKind = 'apply' | 'break-glass' | 'revert' | 'baseline' | 'auto-rollback' | 'restore';

export interface LedgerMeta {
  environment: string;
  kind: LedgerKind;
  actor: string;
  commit: string | null;
  pullRequest: number | null;
  planHash: string | null;
  outcome: string;
  reason?: string | null;
  summary?: Record<string, JsonValue>;
}

export interface LedgerChange {
  subject: 'flag' | 'migration';
  key: string;
  action: string;
  oldValue?: JsonValue | null;
  newValue?: JsonValue | null;
  oldStage?: string | null;
  newStage?: string | null;
  oldPercent?: number | null;
  newPercent?: number | null;
}

export interface LedgerEntry extends LedgerMeta {
  id: number;
  at: Date;
  changes: LedgerChange[];
}

/**
 * Append an entry and its changes; returns the entry id. Call inside the transaction that
 * makes the changes: the entry's hash (ledger-chain.ts) is computed from exactly what is
 * inserted and links to the environment's previous entry, and a transaction-level lock per
 * environment keeps two writers from linking to the same predecessor.
 */
export async function appendLedger(client: pg.ClientBase, meta: LedgerMeta, changes: readonly LedgerChange[]): Promise<number> {
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [chainLockKey(meta.environment).toString()]);
  const { rows: [next] } = await client.query<{ id: string; at: Date }>(
    "SELECT nextval(pg_get_serial_sequence('rollout.ledger', 'id')) AS id, date_trunc('milliseconds', now()) AS at",
  );
  const prev = await chainTip(client, meta.environment);
  const entry: ChainEntry = {
    id: Number(next.id),
    environment: meta.environment,
    at: next.at,
    kind: meta.kind,
    actor: meta.actor,
    commit: meta.commit,
    pullRequest: meta.pullRequest,
    planHash: meta.planHash,
    outcome: meta.outcome,
    reason: meta.reason ?? null,
    summary: asStored(meta.summary ?? {}),
    changes: changes.map((c, ordinal) => ({
      ordinal,
      subject: c.subject,
      key: c.key,
      action: c.action,
      oldValue: asStored(c.oldValue ?? null),
      newValue: asStored(c.newValue ?? null),
      oldStage: c.oldStage ?? null,
      newStage: c.newStage ?? null,
      oldPercent: c.oldPercent ?? null,
      newPercent: c.newPercent ?? null,
    })),
  };
  await client.query(
    `INSERT INTO rollout.ledger (id, environment, at, kind, actor, commit_sha, pull_request, plan_hash, outcome, reason, summary, prev_hash, hash)
     OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)`,
    [entry.id, entry.environment, entry.at, entry.kind, entry.actor, entry.commit, entry.pullRequest, entry.planHash, entry.outcome, entry.reason,
      JSON.stringify(entry.summary), prev, entryDigest(entry, prev)],
  );
  if (entry.changes.length > 0) {
    // One statement for every change: 1,000 changes are one round trip, not a thousand.
    const records = entry.changes.map((c) => ({
      ordinal: c.ordinal,
      subject: c.subject,
      key: c.key,
      action: c.action,
      old_value: c.oldValue,
      new_value: c.newValue,
      old_stage: c.oldStage,
      new_stage: c.newStage,
      old_percent: c.oldPercent,
      new_percent: c.newPercent,
    }));
    await client.query(
      `INSERT INTO rollout.ledger_changes (ledger_id, ordinal, subject, key, action, old_value, new_value, old_stage, new_stage, old_percent, new_percent)
       SELECT $1, ordinal, subject, key, action, old_value, new_value, old_stage, new_stage, old_percent, new_percent
         FROM jsonb_to_recordset($2::jsonb) AS r(ordinal int, subject text, key text, action text, old_value jsonb, new_value jsonb,
                                               old_stage text, new_stage text, old_percent numeric, new_percent numeric)`,
      [entry.id, JSON.stringify(records)],
    );
  }
  return entry.id;
}

/**
 * The id of the environment's last ledger entry (null: none yet). Entries of one environment
 * take their id under its chain lock, so a later commit always has a higher id: a changed
 * answer means some writer committed in between.
 */
export async function lastLedgerId(client: pg.ClientBase, environment: string): Promise<number | null> {
  const { rows } = await client.query<{ id: string }>('SELECT id FROM rollout.ledger WHERE environment = $1 ORDER BY id DESC LIMIT 1', [environment]);
  return rows.length === 0 ? null : Number(rows[0].id);
}

/** The transaction lock that serialises appends to one environment's chain. */
export function chainLockKey(environment: string): bigint {
  return createHash('sha256').update(`rollout:ledger-chain:${environment}`).digest().readBigInt64BE(0);
}

/** The latest entries, newest first, with their changes. Empty on a database rollout never wrote. */
export async function readLedger(client: pg.ClientBase, options: { environment?: string; limit?: number } = {}): Promise<LedgerEntry[]> {
  const { rows: present } = await client.query<{ ok: boolean }>("SELECT to_regclass('rollout.ledger') IS NOT NULL AS ok");
  if (!present[0]?.ok) return [];
  const { rows } = await client.query<{
    id: string; at: Date; environment: string; kind: LedgerKind; actor: string; commit_sha: string | null; pull_request: number | null;
    plan_hash: string | null; outcome: string; reason: string | null; summary: Record<string, JsonValue>; changes: LedgerChange[] | null;
  }>(
    `SELECT l.*, (SELECT json_agg(json_build_object('subject', c.subject, 'key', c.key, 'action', c.action, 'oldValue', c.old_value, 'newValue', c.new_value,
                                                   'oldStage', c.old_stage, 'newStage', c.new_stage, 'oldPercent', c.old_percent, 'newPercent', c.new_percent) ORDER BY c.ordinal)
                    FROM rollout.ledger_changes c WHERE c.ledger_id = l.id) AS changes
       FROM rollout.ledger l
      WHERE $1::text IS NULL OR l.environment = $1
      ORDER BY l.id DESC LIMIT $2`,
    [options.environment ?? null, options.limit ?? 20],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    environment: r.environment,
    kind: r.kind,
    actor: r.actor,
    commit: r.commit_sha,
    pullRequest: r.pull_request,
    planHash: r.plan_hash,
    outcome: r.outcome,
    reason: r.reason,
    summary: r.summary,
    changes: r.changes ?? [],
  }));
}
