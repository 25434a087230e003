-- A comparison point for bench/serving/sql-evaluate.ts only, never installed by the engine:
-- the same rule as rollout.evaluate (actions/engine/store/evaluate-sql.ts) written as an
-- inlinable LANGUAGE sql function (one SELECT, STABLE, not STRICT), which the planner folds into
-- the caller's query. It is what the engine's PL/pgSQL function was measured against: about as
-- fast with prepared statements, several times slower without (its body is parsed and planned with
-- every unprepared call). The bench checks it against every row of test/serving/cases.ts first.
-- Needs rollout.bucket_of (BUCKETING_SQL) and rollout.segment_of (EVALUATE_SQL).
CREATE OR REPLACE FUNCTION rollout.evaluate_inline(flag_key text, targeting_key text, attributes jsonb DEFAULT '{}')
RETURNS TABLE (value jsonb, variant text, reason text, stage text, shadow_value jsonb, segment text, error_code text, ledger_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $inline$
  SELECT CASE v.variant WHEN 'on' THEN coalesce(d.value, 'null') WHEN 'off' THEN coalesce(d.off_value, 'null') WHEN 'break-glass' THEN d.override END,
         v.variant,
         v.reason,
         d.stage,
         CASE WHEN p.error_code IS NULL AND d.override IS NULL AND d.stage = 'shadow' THEN coalesce(d.value, 'null') END,
         p.segment,
         p.error_code,
         d.ledger_id
    FROM (SELECT) AS one
    LEFT JOIN rollout.flag_definitions AS d ON d.key = flag_key
    CROSS JOIN LATERAL (
      -- What stops the rule from reading the row (nothing, for every row the engine writes), and
      -- the segment that puts the unit in the rollout of a dark or canary flag.
      SELECT CASE WHEN d.key IS NULL THEN 'FLAG_NOT_FOUND'
                  WHEN d.stage IS NOT NULL AND d.stage NOT IN ('off', 'dark', 'shadow', 'canary', 'full')
                    OR coalesce(d.percent, 0) NOT BETWEEN 0 AND 100
                    OR jsonb_typeof(coalesce(d.segments, '[]')) <> 'array' THEN 'PARSE_ERROR' END AS error_code,
             CASE WHEN d.override IS NULL AND d.stage IN ('dark', 'canary') AND d.segments <> '[]'
                  THEN rollout.segment_of(d.segments, targeting_key, attributes) END AS segment
      OFFSET 0
    ) AS p
    CROSS JOIN LATERAL (
      SELECT CASE WHEN p.error_code IS NOT NULL THEN NULL
                  WHEN d.override IS NOT NULL THEN 'break-glass'
                  WHEN d.stage IS NULL OR d.stage = 'full' THEN 'on'
                  WHEN d.stage IN ('off', 'shadow') THEN 'off'
                  WHEN p.segment IS NOT NULL THEN 'on'
                  WHEN d.stage = 'dark' OR targeting_key IS NULL THEN 'off'
                  WHEN rollout.bucket_of(d.key, targeting_key) < round(coalesce(d.percent, 0) * 100) THEN 'on'
                  ELSE 'off' END AS variant,
             CASE WHEN p.error_code IS NOT NULL THEN 'ERROR'
                  WHEN d.override IS NOT NULL OR d.stage IS NULL OR d.stage IN ('full', 'shadow') THEN 'STATIC'
                  WHEN d.stage = 'off' THEN 'DISABLED'
                  WHEN p.segment IS NOT NULL THEN 'TARGETING_MATCH'
                  WHEN d.stage = 'dark' OR targeting_key IS NULL THEN 'DEFAULT'
                  ELSE 'SPLIT' END AS reason
      OFFSET 0
    ) AS v
$inline$;
