/**
 * The bucketing functions as SQL, to install in a database (idempotent):
 * rollout.murmur3_32(bytea, seed), rollout.bucket_of(flag_key, unit_id) and
 * rollout.in_rollout(flag_key, unit_id, percent). Same rule as bucketing.ts.
 */
export const BUCKETING_SQL = String.raw`
-- Deterministic bucketing for rollouts; the algorithm is documented in docs/bucketing.md.
--   rollout.bucket_of(flag_key, unit_id)           -> 0 .. 9999
--   rollout.in_rollout(flag_key, unit_id, percent) -> bucket_of(...) < round(percent * 100)
-- Plain SQL and PL/pgSQL, no extensions: runs on stock Postgres and on PGlite.
-- Idempotent: running it again replaces the functions with identical ones.

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
`.trimStart();
