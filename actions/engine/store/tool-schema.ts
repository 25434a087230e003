/**
 * The tool's own tables, in schema `rollout`. Created by apply (plan never writes),
 * idempotently, so every version of the tool can run against any database it touched.
 *
 * Layout (documented in docs/flag-store.md, for the services that read it):
 * - rollout.flags          default flag store: key → jsonb value
 * - rollout.flag_rollouts  per flag: stage, percent and since when (services read
 *                          stage/percent here whatever table holds the values), plus the
 *                          last value rollout wrote, to tell drift from Git changes
 * - rollout.ledger         append-only: one row per apply / rollback / break-glass, hash-chained
 * - rollout.ledger_changes append-only: one row per change of that action (covered by its entry's hash)
 * - rollout.measurements   append-only: one row per monitor measurement `health` took (value,
 *                          verdict, which flags' exit criteria it serves); the exit-criteria gate reads it
 * - rollout.bucket_of / rollout.in_rollout  bucketing for services (docs/bucketing.md)
 * - rollout.flag_definitions  view: what services are served, per flag (store/definitions-sql.ts)
 * - rollout.evaluate       what a unit sees, read from that view (store/evaluate-sql.ts)
 */
import type pg from 'pg';
import { BUCKETING_SQL } from '../bucketing/bucketing-sql.ts';
import { DEFINITIONS_SQL } from './definitions-sql.ts';
import { EVALUATE_SQL } from './evaluate-sql.ts';

/** The trigger function's body: checked by ledgerTriggerProblems, restored by every apply. */
const REFUSE_BODY = `
BEGIN
  RAISE EXCEPTION 'rollout: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
`;
/** pg_trigger.tgtype: ROW (1) | BEFORE (2) | DELETE (8) | UPDATE (16); and BEFORE (2) | TRUNCATE (32), per statement. */
const ROW_TRIGGER_TYPE = 1 | 2 | 8 | 16;
const TRUNCATE_TRIGGER_TYPE = 2 | 32;

export const TOOL_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS rollout;

CREATE TABLE IF NOT EXISTS rollout.flags (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS rollout.flag_rollouts (
  key text PRIMARY KEY,
  stage text,
  percent numeric,
  stage_since timestamptz,
  recorded_value jsonb,
  recorded_kind text NOT NULL,
  ledger_id bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS rollout.ledger (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  environment text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL CONSTRAINT ledger_kind_check CHECK (kind IN ('apply', 'rollback', 'break-glass', 'revert', 'baseline', 'auto-rollback', 'restore')),
  actor text NOT NULL,
  commit_sha text,
  pull_request integer,
  plan_hash text,
  outcome text NOT NULL,
  reason text,
  summary jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE IF NOT EXISTS rollout.ledger_changes (
  ledger_id bigint NOT NULL REFERENCES rollout.ledger (id),
  ordinal integer NOT NULL,
  subject text NOT NULL CHECK (subject IN ('flag', 'migration')),
  key text NOT NULL,
  action text NOT NULL,
  old_value jsonb,
  new_value jsonb,
  old_stage text,
  new_stage text,
  old_percent numeric,
  new_percent numeric,
  PRIMARY KEY (ledger_id, ordinal)
);
CREATE INDEX IF NOT EXISTS ledger_changes_key ON rollout.ledger_changes (key, ledger_id DESC);

-- 'auto-rollback' (an exit criterion's breach moved a flag back, monitors/stage-rollback.ts) and
-- 'restore' (rollout restore) came after the first release: widen the kind check of a ledger created before them.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'rollout.ledger'::regclass AND conname = 'ledger_kind_check'
                AND pg_get_constraintdef(oid) NOT LIKE '%''restore''%') THEN
    ALTER TABLE rollout.ledger DROP CONSTRAINT ledger_kind_check;
    ALTER TABLE rollout.ledger ADD CONSTRAINT ledger_kind_check CHECK (kind IN ('apply', 'rollback', 'break-glass', 'revert', 'baseline', 'auto-rollback', 'restore'));
  END IF;
END
$$;

-- Measurements (monitors/measurements.ts): the evidence exit criteria are judged on. ledger_id
-- names the action a breach took (a kill switch, a stage rollback), written in the same transaction.
CREATE TABLE IF NOT EXISTS rollout.measurements (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  environment text NOT NULL,
  monitor text NOT NULL,
  flags text[] NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now(),
  value double precision,
  verdict text NOT NULL CHECK (verdict IN ('healthy', 'breach', 'unknown')),
  detail text NOT NULL,
  ledger_id bigint REFERENCES rollout.ledger (id)
);
CREATE INDEX IF NOT EXISTS measurements_monitor_at ON rollout.measurements (environment, monitor, at);

-- The hash chain (store/ledger-chain.ts): each entry's hash covers its content and its predecessor's hash.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'rollout.ledger'::regclass AND attname = 'hash' AND NOT attisdropped) THEN
    ALTER TABLE rollout.ledger ADD COLUMN prev_hash text, ADD COLUMN hash text;
  END IF;
END
$$;

-- The ledger is evidence: the database itself refuses to rewrite it.
CREATE OR REPLACE FUNCTION rollout.refuse_ledger_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $refuse$${REFUSE_BODY}$refuse$;

-- Looked up on the ledger tables themselves (a trigger of the same name elsewhere is no
-- protection), and made to fire ALWAYS: SET session_replication_role = replica skips
-- ordinary triggers, not these. Anything missing, disabled or pointing elsewhere is rebuilt.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ledger', 'ledger_changes'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = format('rollout.%I', t)::regclass AND tgname = t || '_append_only'
                      AND tgfoid = 'rollout.refuse_ledger_rewrite()'::regprocedure AND tgtype = ${ROW_TRIGGER_TYPE} AND tgenabled = 'A')
       OR NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = format('rollout.%I', t)::regclass AND tgname = t || '_append_only_truncate'
                         AND tgfoid = 'rollout.refuse_ledger_rewrite()'::regprocedure AND tgtype = ${TRUNCATE_TRIGGER_TYPE} AND tgenabled = 'A') THEN
      EXECUTE format('DROP TRIGGER IF EXISTS %I ON rollout.%I', t || '_append_only', t);
      EXECUTE format('DROP TRIGGER IF EXISTS %I ON rollout.%I', t || '_append_only_truncate', t);
      EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON rollout.%I FOR EACH ROW EXECUTE FUNCTION rollout.refuse_ledger_rewrite()', t || '_append_only', t);
      EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON rollout.%I FOR EACH STATEMENT EXECUTE FUNCTION rollout.refuse_ledger_rewrite()', t || '_append_only_truncate', t);
      EXECUTE format('ALTER TABLE rollout.%I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only');
      EXECUTE format('ALTER TABLE rollout.%I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only_truncate');
    END IF;
  END LOOP;
END
$$;
`;

/** Create or upgrade the tool's tables. Runs under the environment lock, in its own transaction. */
export async function ensureToolSchema(client: pg.ClientBase): Promise<void> {
  await client.query(`BEGIN;\n${TOOL_SCHEMA_SQL}\n${BUCKETING_SQL}\n${DEFINITIONS_SQL}\n${EVALUATE_SQL}\nCOMMIT;`);
}

/** The ledger tables the append-only triggers protect. */
export const LEDGER_TABLES = ['ledger', 'ledger_changes'] as const;

const TRIGGERS_SQL = `
SELECT t.relname::text AS "table", tg.tgname::text AS name, tg.tgtype::int AS type, tg.tgenabled::text AS enabled,
       tg.tgfoid = to_regprocedure('rollout.refuse_ledger_rewrite()') AS ours
  FROM pg_trigger tg JOIN pg_class t ON t.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = 'rollout' AND t.relname = ANY($1::text[]) AND NOT tg.tgisinternal`;

/**
 * What is wrong with the append-only protection, from the catalog of the ledger tables
 * themselves: a trigger missing, disabled, firing only in origin mode (so that
 * session_replication_role = replica skips it), or a trigger function that no longer refuses.
 * Empty when the protection is whole, and on a database rollout never wrote.
 */
export async function ledgerTriggerProblems(client: pg.ClientBase): Promise<string[]> {
  const { rows: present } = await client.query<{ ok: boolean; body: string | null }>(
    `SELECT to_regclass('rollout.ledger') IS NOT NULL AS ok,
            (SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure('rollout.refuse_ledger_rewrite()')) AS body`,
  );
  if (!present[0]?.ok) return [];
  const { rows } = await client.query<{ table: string; name: string; type: number; enabled: string; ours: boolean | null }>(TRIGGERS_SQL, [LEDGER_TABLES]);
  const problems: string[] = [];
  if (present[0].body === null) problems.push('the trigger function rollout.refuse_ledger_rewrite() is missing');
  else if (present[0].body.trim() !== REFUSE_BODY.trim()) problems.push('rollout.refuse_ledger_rewrite() was replaced: it may no longer refuse rewrites');
  for (const table of LEDGER_TABLES) {
    for (const [type, what] of [[ROW_TRIGGER_TYPE, 'UPDATE and DELETE'], [TRUNCATE_TRIGGER_TYPE, 'TRUNCATE']] as const) {
      const found = rows.filter((r) => r.table === table && r.ours && (r.type & type) === type);
      if (found.length === 0) problems.push(`no trigger on rollout.${table} refuses ${what} (dropped?)`);
      else if (found.every((r) => r.enabled === 'D')) problems.push(`the trigger refusing ${what} on rollout.${table} is disabled`);
      else if (!found.some((r) => r.enabled === 'A')) problems.push(`the trigger refusing ${what} on rollout.${table} does not fire ALWAYS: SET session_replication_role = replica skips it`);
    }
  }
  return problems;
}
