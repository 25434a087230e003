/**
 * rollout.evaluate: what a unit sees, answered by the database in one query, for a service
 * that has only a database connection. The same rule as packages/provider/src/rule.ts
 * (tested against every row of test/serving/cases.ts on both databases), over the view
 * rollout.flag_definitions, bucketing with rollout.bucket_of (BUCKETING_SQL: flagd's
 * fractional v2, like bucket.ts).
 *
 *   SELECT value, variant, reason, stage, shadow_value, segment, error_code, ledger_id
 *     FROM rollout.evaluate('checkout.v2', 'user-42', '{"email_domain": "corp.example"}');
 *
 * Always exactly one row. value/variant/reason as rule.ts names them (variant on, off or
 * break-glass; reason STATIC, DISABLED, TARGETING_MATCH, SPLIT or DEFAULT); shadow_value is
 * the rule's shadowValue (the value a shadow flag would serve, never served) and segment the
 * segment that put the unit in. A flag that is not defined gives value NULL, reason ERROR and
 * error_code FLAG_NOT_FOUND, as OpenFeature's resolution does (the caller applies its default:
 * `coalesce(value, default)`); a row the rule cannot read (an unknown stage, a percent outside
 * 0 … 100, segments that are not a list) gives ERROR / PARSE_ERROR for that flag only.
 * value is SQL NULL only for an error: a definition's JSON null is 'null'::jsonb.
 *
 * Why LANGUAGE sql and one SELECT: such a function is inlined into the caller's query
 * (neither STRICT nor VOLATILE, no SET, not SECURITY DEFINER — test/serving/sql-evaluate.test.ts
 * checks the plan), so a prepared `SELECT … FROM rollout.evaluate($1, $2, $3)` is planned once
 * and costs an index lookup plus expressions. A PL/pgSQL version runs each statement through
 * the executor separately; a non-inlined SQL function re-plans its body on every call. The
 * laterals with OFFSET 0 are evaluated once per call (they are not pulled up, which would copy
 * the bucket's hash into every column that reads it); the segments are read only for dark and
 * canary, and the hash is computed only for a canary unit in no segment.
 */

/** The result columns, in order: the SQL below and the check that replaces an older shape. */
export const EVALUATE_COLUMNS = 'value jsonb, variant text, reason text, stage text, shadow_value jsonb, segment text, error_code text, ledger_id bigint';

/**
 * Idempotent; needs rollout.flag_definitions (the body is checked against it when created)
 * and rollout.bucket_of (BUCKETING_SQL) installed first.
 */
export const EVALUATE_SQL = String.raw`
-- CREATE OR REPLACE cannot change a function's result columns: a version that returned
-- others is dropped first (by an exact signature; a view built on it makes this fail loudly).
DO $$
DECLARE
  existing regprocedure := to_regprocedure('rollout.evaluate(text,text,jsonb)');
BEGIN
  IF existing IS NOT NULL AND pg_get_function_result(existing) <> 'TABLE(${EVALUATE_COLUMNS})' THEN
    DROP FUNCTION rollout.evaluate(text, text, jsonb);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION rollout.evaluate(flag_key text, targeting_key text, attributes jsonb DEFAULT '{}')
RETURNS TABLE (${EVALUATE_COLUMNS})
LANGUAGE sql STABLE PARALLEL SAFE
AS $evaluate$
  SELECT CASE v.variant WHEN 'on' THEN coalesce(d.value, 'null') WHEN 'off' THEN coalesce(d.off_value, 'null') WHEN 'break-glass' THEN d.override END,
         v.variant,
         CASE WHEN p.error_code IS NOT NULL THEN 'ERROR'
              WHEN d.override IS NOT NULL OR d.stage IS NULL OR d.stage IN ('full', 'shadow') THEN 'STATIC'
              WHEN d.stage = 'off' THEN 'DISABLED'
              WHEN s.name IS NOT NULL THEN 'TARGETING_MATCH'
              WHEN d.stage = 'dark' OR targeting_key IS NULL THEN 'DEFAULT'
              ELSE 'SPLIT' END,
         d.stage,
         CASE WHEN p.error_code IS NULL AND d.override IS NULL AND d.stage = 'shadow' THEN coalesce(d.value, 'null') END,
         s.name,
         p.error_code,
         d.ledger_id
    FROM (SELECT) AS one
    LEFT JOIN rollout.flag_definitions AS d ON d.key = flag_key
    -- What stops the rule from reading the row: nothing for every row the engine writes.
    CROSS JOIN LATERAL (
      SELECT CASE WHEN d.key IS NULL THEN 'FLAG_NOT_FOUND'
                  WHEN d.stage IS NOT NULL AND d.stage NOT IN ('off', 'dark', 'shadow', 'canary', 'full')
                    OR coalesce(d.percent, 0) NOT BETWEEN 0 AND 100
                    OR jsonb_typeof(coalesce(d.segments, '[]')) <> 'array' THEN 'PARSE_ERROR' END AS error_code
      OFFSET 0
    ) AS p
    -- The first segment the unit is in (rule.ts matchingSegment): by targeting key, or by every
    -- attribute the segment names having one of its values (strings, numbers and booleans
    -- only; the unit's targeting key is its attribute targetingKey, as in OpenFeature).
    LEFT JOIN LATERAL (
      SELECT g.segment ->> 'name' AS name
        FROM jsonb_array_elements(CASE WHEN p.error_code IS NULL AND d.override IS NULL AND d.stage IN ('dark', 'canary') THEN d.segments END)
             WITH ORDINALITY AS g(segment, n)
       WHERE ((targeting_key IS NOT NULL AND jsonb_typeof(g.segment -> 'keys') = 'array' AND (g.segment -> 'keys') ? targeting_key)
              OR (jsonb_typeof(g.segment -> 'attributes') = 'object' AND g.segment -> 'attributes' <> '{}'
                  AND NOT EXISTS (
                    SELECT FROM jsonb_each(g.segment -> 'attributes') AS a(name, allowed)
                     CROSS JOIN LATERAL (SELECT CASE WHEN a.name = 'targetingKey' THEN to_jsonb(targeting_key) ELSE attributes -> a.name END AS actual) AS u
                     WHERE NOT (jsonb_typeof(u.actual) IN ('string', 'number', 'boolean')
                                AND (CASE WHEN jsonb_typeof(a.allowed) = 'array' THEN a.allowed ELSE jsonb_build_array(a.allowed) END) @> jsonb_build_array(u.actual)))))
       ORDER BY g.n
       LIMIT 1
    ) AS s ON true
    CROSS JOIN LATERAL (
      SELECT CASE WHEN p.error_code IS NOT NULL THEN NULL
                  WHEN d.override IS NOT NULL THEN 'break-glass'
                  WHEN d.stage IS NULL OR d.stage = 'full' THEN 'on'
                  WHEN d.stage IN ('off', 'shadow') THEN 'off'
                  WHEN s.name IS NOT NULL THEN 'on'
                  WHEN d.stage = 'dark' OR targeting_key IS NULL THEN 'off'
                  WHEN rollout.bucket_of(d.key, targeting_key) < round(coalesce(d.percent, 0) * 100) THEN 'on'
                  ELSE 'off' END AS variant
      OFFSET 0
    ) AS v
$evaluate$;
`.trimStart();
