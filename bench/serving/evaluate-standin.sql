-- A STAND-IN for rollout.evaluate, used by bench/serving/sql-evaluate.ts only while the engine's
-- own function (installed by apply, issue 11's engine side) is not in this tree. It follows the
-- design's signature and packages/provider/src/rule.ts; the bench checks it against every row of
-- test/serving/cases.ts before measuring. Needs rollout.murmur3_32 (BUCKETING_SQL).
CREATE OR REPLACE FUNCTION rollout.evaluate(flag_key text, targeting_key text, attributes jsonb DEFAULT '{}')
RETURNS TABLE (value jsonb, variant text, reason text, stage text, shadow_value jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  d record;
  seg jsonb;
  matched boolean := false;
BEGIN
  SELECT f.value, f.off_value, f.stage, f.percent, f.segments, f.override INTO d FROM rollout.flag_definitions f WHERE f.key = flag_key;
  IF NOT FOUND THEN RETURN; END IF;
  IF d.override IS NOT NULL THEN RETURN QUERY SELECT d.override, 'break-glass'::text, 'STATIC'::text, d.stage, NULL::jsonb; RETURN; END IF;
  IF d.stage IS NULL OR d.stage = 'full' THEN RETURN QUERY SELECT d.value, 'on'::text, 'STATIC'::text, d.stage, NULL::jsonb; RETURN; END IF;
  IF d.stage = 'off' THEN RETURN QUERY SELECT d.off_value, 'off'::text, 'DISABLED'::text, d.stage, NULL::jsonb; RETURN; END IF;
  IF d.stage = 'shadow' THEN RETURN QUERY SELECT d.off_value, 'off'::text, 'STATIC'::text, d.stage, d.value; RETURN; END IF;
  FOR seg IN SELECT s FROM jsonb_array_elements(coalesce(d.segments, '[]'::jsonb)) AS s LOOP
    IF targeting_key IS NOT NULL AND jsonb_typeof(seg->'keys') = 'array' AND seg->'keys' ? targeting_key THEN matched := true; EXIT; END IF;
    IF jsonb_typeof(seg->'attributes') = 'object' AND seg->'attributes' <> '{}'::jsonb AND NOT EXISTS (
      SELECT 1 FROM jsonb_each(seg->'attributes') AS a(name, allowed)
       WHERE NOT (jsonb_typeof(attributes->a.name) IN ('string', 'number', 'boolean')
                  AND (CASE WHEN jsonb_typeof(a.allowed) = 'array' THEN a.allowed ELSE jsonb_build_array(a.allowed) END) @> jsonb_build_array(attributes->a.name))
    ) THEN matched := true; EXIT; END IF;
  END LOOP;
  IF matched THEN RETURN QUERY SELECT d.value, 'on'::text, 'TARGETING_MATCH'::text, d.stage, NULL::jsonb; RETURN; END IF;
  IF d.stage = 'dark' OR targeting_key IS NULL THEN RETURN QUERY SELECT d.off_value, 'off'::text, 'DEFAULT'::text, d.stage, NULL::jsonb; RETURN; END IF;
  IF ((rollout.murmur3_32(convert_to(flag_key || targeting_key, 'UTF8')) * 10000) >> 32) < round(d.percent * 100) THEN
    RETURN QUERY SELECT d.value, 'on'::text, 'SPLIT'::text, d.stage, NULL::jsonb;
  ELSE
    RETURN QUERY SELECT d.off_value, 'off'::text, 'SPLIT'::text, d.stage, NULL::jsonb;
  END IF;
END
$$;
