/**
 * The tool's own tables, in schema `rollout`. Created by apply (plan never writes),
 * idempotently, so every version of the tool can run against any database it touched.
 *
 * Layout (documented in docs/flag-store.md, for the services that read it):
 * - rollout.flags          default flag store: key → jsonb value
 * - rollout.flag_rollouts  per flag: stage, percent and since when (services read
 *                          stage/percent here whatever table holds the values), plus the
 *                          last value rollout wrote, to tell drift from Git changes
 * - rollout.ledger         append-only: one row per apply / rollback / break-glass
 * - rollout.ledger_changes append-only: one row per change of that action
 * - rollout.bucket_of / rollout.in_rollout  bucketing for services (docs/bucketing.md)
 */
import type pg from 'pg';
import { BUCKETING_SQL } from '../bucketing/bucketing-sql.ts';

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
  kind text NOT NULL CHECK (kind IN ('apply', 'rollback', 'break-glass', 'revert', 'baseline')),
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

-- The ledger is evidence: the database itself refuses to rewrite it.
CREATE OR REPLACE FUNCTION rollout.refuse_ledger_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rollout: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_append_only') THEN
    CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON rollout.ledger
      FOR EACH ROW EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
    CREATE TRIGGER ledger_append_only_truncate BEFORE TRUNCATE ON rollout.ledger
      FOR EACH STATEMENT EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_changes_append_only') THEN
    CREATE TRIGGER ledger_changes_append_only BEFORE UPDATE OR DELETE ON rollout.ledger_changes
      FOR EACH ROW EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
    CREATE TRIGGER ledger_changes_append_only_truncate BEFORE TRUNCATE ON rollout.ledger_changes
      FOR EACH STATEMENT EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
  END IF;
END
$$;
`;

/** Create or upgrade the tool's tables. Runs under the environment lock, in its own transaction. */
export async function ensureToolSchema(client: pg.ClientBase): Promise<void> {
  await client.query(`BEGIN;\n${TOOL_SCHEMA_SQL}\n${BUCKETING_SQL}\nCOMMIT;`);
}
