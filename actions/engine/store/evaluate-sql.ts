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
 * Why PL/pgSQL and not an inlinable LANGUAGE sql function: both were measured side by side
 * (bench/serving/sql-evaluate.ts; the SQL one is bench/serving/evaluate-inline-sql.sql). With
 * prepared statements they cost about the same; without — node-pg's default, psql, most ad hoc
 * use — the inlined body is parsed and planned with every call and costs 2–3× the PL/pgSQL
 * function, which plans its one query once per session and then only branches. Not a set-
 * returning function (OUT parameters, one row), so no tuplestore per call; the segments are
 * read only for a dark or canary flag that has some, and the hash is computed only for a canary
 * unit in no segment.
 */
import { functionsOnce } from './functions-once.ts';

/** The result columns (OUT parameters), in order. */
export const EVALUATE_COLUMNS = ['value jsonb', 'variant text', 'reason text', 'stage text', 'shadow_value jsonb', 'segment text', 'error_code text', 'ledger_id bigint'] as const;

const OUT_PARAMETERS = EVALUATE_COLUMNS.map((c) => `OUT ${c}`).join(', ');
const ARGUMENT_NAMES = ['flag_key', 'targeting_key', 'attributes', ...EVALUATE_COLUMNS.map((c) => c.split(' ')[0])];

/**
 * The first segment the unit is in (rule.ts matchingSegment), or NULL: by targeting key, or by
 * every attribute the segment names having one of its values in the unit's attributes (strings,
 * numbers and booleans only; the targeting key is also the attribute targetingKey, as in
 * OpenFeature's context). Called by rollout.evaluate only for a dark or canary flag that has
 * segments.
 */
const SEGMENT_OF = String.raw`
CREATE OR REPLACE FUNCTION rollout.segment_of(segments jsonb, targeting_key text, attributes jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $segment_of$
DECLARE
  segment jsonb;
  matched boolean;
  a record;
  actual jsonb;
BEGIN
  IF jsonb_typeof(segments) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
  FOR i IN 0 .. jsonb_array_length(segments) - 1 LOOP
    segment := segments -> i;
    IF targeting_key IS NOT NULL AND jsonb_typeof(segment -> 'keys') = 'array' AND (segment -> 'keys') ? targeting_key THEN
      RETURN segment ->> 'name';
    END IF;
    IF jsonb_typeof(segment -> 'attributes') = 'object' AND segment -> 'attributes' <> '{}' THEN
      matched := true;
      FOR a IN SELECT e.key, e.value FROM jsonb_each(segment -> 'attributes') AS e LOOP
        actual := CASE WHEN a.key = 'targetingKey' THEN to_jsonb(targeting_key) ELSE attributes -> a.key END;
        IF NOT (jsonb_typeof(actual) IN ('string', 'number', 'boolean')
                AND (CASE WHEN jsonb_typeof(a.value) = 'array' THEN a.value ELSE jsonb_build_array(a.value) END) @> jsonb_build_array(actual)) THEN
          matched := false;
          EXIT;
        END IF;
      END LOOP;
      IF matched THEN RETURN segment ->> 'name'; END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END;
$segment_of$`;

const EVALUATE = String.raw`
CREATE OR REPLACE FUNCTION rollout.evaluate(flag_key text, targeting_key text, attributes jsonb DEFAULT '{}', ${OUT_PARAMETERS})
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $evaluate$
DECLARE
  d record;
BEGIN
  SELECT f.value, f.off_value, f.stage, f.percent, f.segments, f.override, f.ledger_id INTO d
    FROM rollout.flag_definitions AS f
   WHERE f.key = flag_key;
  IF NOT FOUND THEN
    reason := 'ERROR'; error_code := 'FLAG_NOT_FOUND'; RETURN;
  END IF;
  stage := d.stage;
  ledger_id := d.ledger_id;
  -- What stops the rule from reading the row (parseDefinition): nothing, for every row the engine writes.
  IF d.stage IS NOT NULL AND d.stage NOT IN ('off', 'dark', 'shadow', 'canary', 'full')
     OR coalesce(d.percent, 0) NOT BETWEEN 0 AND 100
     OR jsonb_typeof(coalesce(d.segments, '[]')) <> 'array' THEN
    reason := 'ERROR'; error_code := 'PARSE_ERROR'; RETURN;
  END IF;
  IF d.override IS NOT NULL THEN
    value := d.override; variant := 'break-glass'; reason := 'STATIC'; RETURN;
  END IF;
  IF d.stage IS NULL OR d.stage = 'full' THEN
    value := coalesce(d.value, 'null'); variant := 'on'; reason := 'STATIC'; RETURN;
  END IF;
  IF d.stage = 'off' THEN
    value := coalesce(d.off_value, 'null'); variant := 'off'; reason := 'DISABLED'; RETURN;
  END IF;
  IF d.stage = 'shadow' THEN
    value := coalesce(d.off_value, 'null'); variant := 'off'; reason := 'STATIC'; shadow_value := coalesce(d.value, 'null'); RETURN;
  END IF;
  -- dark and canary: a unit in one of the flag's segments is in, whatever its bucket.
  IF d.segments <> '[]' THEN
    segment := rollout.segment_of(d.segments, targeting_key, attributes);
    IF segment IS NOT NULL THEN
      value := coalesce(d.value, 'null'); variant := 'on'; reason := 'TARGETING_MATCH'; RETURN;
    END IF;
  END IF;
  IF d.stage = 'dark' OR targeting_key IS NULL THEN
    value := coalesce(d.off_value, 'null'); variant := 'off'; reason := 'DEFAULT'; RETURN;
  END IF;
  reason := 'SPLIT';
  IF rollout.bucket_of(flag_key, targeting_key) < round(coalesce(d.percent, 0) * 100) THEN
    value := coalesce(d.value, 'null'); variant := 'on';
  ELSE
    value := coalesce(d.off_value, 'null'); variant := 'off';
  END IF;
END;
$evaluate$`;

/**
 * Idempotent, and a no-op when the functions are already these (functions-once.ts). Reads
 * rollout.flag_definitions and calls rollout.bucket_of (BUCKETING_SQL) when it runs, not when
 * it is created (PL/pgSQL resolves names at the first call), so it may be installed before or
 * after them. Finer format errors than those listed above (a segment's empty attribute list,
 * say) are the provider's PARSE_ERROR only; the engine never writes them.
 */
export const EVALUATE_SQL = functionsOnce({
  name: 'rollout evaluate',
  signatures: ['rollout.segment_of(jsonb,text,jsonb)', 'rollout.evaluate(text,text,jsonb)'],
  // CREATE OR REPLACE cannot change a function's result: a version with other result columns
  // (or a set-returning one) is dropped first, by its exact signature (a view built on it makes
  // this fail loudly rather than vanish).
  before: String.raw`
    IF (SELECT p.proretset OR p.proargnames IS DISTINCT FROM '{${ARGUMENT_NAMES.join(',')}}'::text[]
          FROM pg_proc AS p WHERE p.oid = to_regprocedure('rollout.evaluate(text,text,jsonb)')) THEN
      DROP FUNCTION rollout.evaluate(text, text, jsonb);
    END IF;`,
  statements: [SEGMENT_OF, EVALUATE],
});
