/**
 * Flag definitions in the database (installed by apply with the tool's tables, idempotent):
 * the serving columns of rollout.flag_rollouts, rollout.plain_value() — what the value table
 * holds for a definition, the rule of plainValue() in serving/definitions.ts — and the view
 * rollout.flag_definitions with exactly the columns the provider reads
 * (packages/provider/src/queries.ts).
 */

/** Bumped when the view's text changes: apply replaces it only then (a replace locks out readers for a moment). */
const VIEW_VERSION = 'rollout flag definitions 1';

/**
 * SQL: whether rollout.flag_rollouts has the serving columns. One ALTER adds them all, so one
 * stands for them; false (not an error) when the table does not exist. The one test of it,
 * for the upgrade below, readLiveState and break-glass.
 */
export const HAS_DEFINITION_COLUMNS = "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('rollout.flag_rollouts') AND attname = 'off_value' AND NOT attisdropped)";

export const DEFINITIONS_SQL = String.raw`
-- Serving columns, added in place to tables older versions made. value is SQL NULL only on
-- a row no version with definitions has written yet (apply then plans it: docs/flag-store.md).
DO $$
BEGIN
  IF NOT ${HAS_DEFINITION_COLUMNS} THEN
    ALTER TABLE rollout.flag_rollouts
      ADD COLUMN value jsonb,
      ADD COLUMN off_value jsonb,
      ADD COLUMN segments jsonb,
      ADD COLUMN override jsonb,
      ADD COLUMN kill_switch boolean;
  END IF;
END
$$;

-- What a plain read of the value table returns: a break-glass override when set; value once
-- full, or for a plain flag; else what units outside the rollout get. Never NULL (the value
-- table's column is NOT NULL): a definition without an off value serves JSON null.
CREATE OR REPLACE FUNCTION rollout.plain_value(value jsonb, off_value jsonb, stage text, override jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $plain$
  SELECT coalesce(override, CASE WHEN stage IS NULL OR stage = 'full' THEN value ELSE off_value END, 'null'::jsonb)
$plain$;

DO $$
BEGIN
  IF obj_description(to_regclass('rollout.flag_definitions'), 'pg_class') IS DISTINCT FROM '${VIEW_VERSION}' THEN
    CREATE OR REPLACE VIEW rollout.flag_definitions AS
      SELECT key, value, coalesce(off_value, CASE WHEN stage IS NULL THEN value END) AS off_value, stage,
             coalesce(percent, 0) AS percent, coalesce(segments, '[]'::jsonb) AS segments, override,
             coalesce(kill_switch, false) AS kill_switch, ledger_id
        FROM rollout.flag_rollouts
       WHERE value IS NOT NULL;
    COMMENT ON VIEW rollout.flag_definitions IS '${VIEW_VERSION}';
  END IF;
END
$$;
`.trimStart();
