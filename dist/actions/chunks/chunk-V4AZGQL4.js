import { createRequire as __rolloutCreateRequire } from 'node:module'; import { dirname as __rolloutDirname } from 'node:path'; import { fileURLToPath as __rolloutFileURLToPath } from 'node:url'; const require = __rolloutCreateRequire(import.meta.url); const __filename = __rolloutFileURLToPath(import.meta.url); const __dirname = __rolloutDirname(__filename);
var e=String.raw`
-- Deterministic bucketing for rollouts; the algorithm is documented in docs/bucketing.md.
--   rollout.bucket_of(flag_key, unit_id)           -> 0 .. 9999
--   rollout.in_rollout(flag_key, unit_id, percent) -> bucket_of(...) < round(percent * 100)
-- Plain SQL and PL/pgSQL, no extensions: runs on stock Postgres and on PGlite.
-- Idempotent: running it again replaces the functions with identical ones.
-- The same text is BUCKETING_SQL in bucketing-sql.ts; test/bucketing/sql.test.ts keeps them equal.

CREATE SCHEMA IF NOT EXISTS rollout;

-- MurmurHash3 x86 32-bit of raw bytes, as an unsigned 32-bit value in a bigint.
-- Unsigned 32-bit arithmetic is done in bigint and masked with 0xffffffff; each product
-- is split at 16 bits so that it never overflows 64 bits. Postgres gives all bitwise
-- operators one precedence, left to right, hence the parentheses.
CREATE OR REPLACE FUNCTION rollout.murmur3_32(data bytea, seed bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $murmur3$
DECLARE
  m    constant bigint := 4294967295;  -- 0xffffffff
  c1   constant bigint := 3432918353;  -- 0xcc9e2d51
  c2   constant bigint := 461845907;   -- 0x1b873593
  len  constant int := length(data);
  body constant int := len - (len % 4);
  h    bigint := seed & m;
  k    bigint;
  i    int := 0;
BEGIN
  WHILE i < body LOOP
    k := get_byte(data, i)::bigint
       | (get_byte(data, i + 1)::bigint << 8)
       | (get_byte(data, i + 2)::bigint << 16)
       | (get_byte(data, i + 3)::bigint << 24);
    k := ((k * (c1 & 65535)) + (((k * (c1 >> 16)) & 65535) << 16)) & m;
    k := ((k << 15) | (k >> 17)) & m;
    k := ((k * (c2 & 65535)) + (((k * (c2 >> 16)) & 65535) << 16)) & m;
    h := h # k;
    h := ((h << 13) | (h >> 19)) & m;
    h := ((h * 5) + 3864292196) & m;  -- 0xe6546b64
    i := i + 4;
  END LOOP;

  IF len % 4 > 0 THEN
    k := 0;
    IF len % 4 = 3 THEN
      k := k # (get_byte(data, body + 2)::bigint << 16);
    END IF;
    IF len % 4 >= 2 THEN
      k := k # (get_byte(data, body + 1)::bigint << 8);
    END IF;
    k := k # get_byte(data, body)::bigint;
    k := ((k * (c1 & 65535)) + (((k * (c1 >> 16)) & 65535) << 16)) & m;
    k := ((k << 15) | (k >> 17)) & m;
    k := ((k * (c2 & 65535)) + (((k * (c2 >> 16)) & 65535) << 16)) & m;
    h := h # k;
  END IF;

  h := h # len;
  h := h # (h >> 16);
  h := ((h * 51819) + (((h * 34283) & 65535) << 16)) & m;  -- * 0x85ebca6b
  h := h # (h >> 13);
  h := ((h * 44597) + (((h * 49842) & 65535) << 16)) & m;  -- * 0xc2b2ae35
  h := h # (h >> 16);
  RETURN h;
END;
$murmur3$;

-- The bucket (0 .. 9999) of a unit for a flag: murmur3 of the UTF-8 bytes of
-- flag_key || ':' || unit_id, seed 0, modulo 10000.
CREATE OR REPLACE FUNCTION rollout.bucket_of(flag_key text, unit_id text)
RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $bucket_of$
  SELECT (rollout.murmur3_32(convert_to(flag_key || ':' || unit_id, 'UTF8'), 0) % 10000)::int
$bucket_of$;

-- Whether a unit is in a flag's rollout at percent (0 .. 100, at most two decimals).
-- Raising the percent only ever adds units.
CREATE OR REPLACE FUNCTION rollout.in_rollout(flag_key text, unit_id text, percent numeric)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $in_rollout$
BEGIN
  IF percent < 0 OR percent > 100 OR percent * 100 <> round(percent * 100) THEN
    RAISE EXCEPTION 'Invalid rollout percent %. Expected a number from 0 to 100 with at most two decimals, like 5 or 12.5.', percent
      USING ERRCODE = '22023';
  END IF;
  RETURN rollout.bucket_of(flag_key, unit_id) < round(percent * 100);
END;
$in_rollout$;
`.trimStart();var n=`
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
`;async function r(t){await t.query(`BEGIN;
${n}
${e}
COMMIT;`)}export{r as a};
