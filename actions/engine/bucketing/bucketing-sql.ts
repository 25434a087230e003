/**
 * The bucketing functions as SQL, installed by every apply (a no-op when they are already
 * these: store/functions-once.ts). The rule is flagd's fractional v2, exactly as
 * packages/provider/src/bucket.ts computes it (the one TypeScript home); docs/bucketing.md has
 * the formula and the golden vectors both are tested against.
 *
 *   rollout.murmur3_32(data bytea, seed bigint DEFAULT 0)   the unsigned hash
 *   rollout.bucket_of(flag_key, unit_id)                    (murmur3(utf8(flag_key || unit_id)) * 10000) >> 32, 0 .. 9999
 *   rollout.in_rollout(flag_key, unit_id, percent)          bucket_of(...) < round(percent * 100)
 *
 * unit_id is the unit's targeting key. PL/pgSQL, no extensions: stock Postgres and PGlite.
 */
import { functionsOnce } from '../store/functions-once.ts';

const MURMUR3 = String.raw`
-- MurmurHash3 x86 32-bit of raw bytes, as an unsigned 32-bit value in a bigint.
-- Unsigned 32-bit arithmetic is done in bigint and masked with 4294967295 (0xffffffff); a
-- product by a 32-bit constant is split at 16 bits (c = hi * 65536 + lo) so that it never
-- overflows 64 bits. One statement per step, because each PL/pgSQL statement costs more than
-- the arithmetic in it (this shape is ~25 % faster than one statement per operation).
-- Postgres gives all bitwise operators one precedence, left to right, hence the parentheses.
--   c1 = 0xcc9e2d51 = 52382 * 65536 + 11601;  c2 = 0x1b873593 = 7047 * 65536 + 13715
--   0x85ebca6b = 34283 * 65536 + 51819;       0xc2b2ae35 = 49842 * 65536 + 44597
CREATE OR REPLACE FUNCTION rollout.murmur3_32(data bytea, seed bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $murmur3$
DECLARE
  len  constant int := length(data);
  body constant int := len - (len % 4);
  h    bigint := seed & 4294967295;
  k    bigint;
  i    int := 0;
BEGIN
  WHILE i < body LOOP
    k := get_byte(data, i)::bigint | (get_byte(data, i + 1)::bigint << 8) | (get_byte(data, i + 2)::bigint << 16) | (get_byte(data, i + 3)::bigint << 24);
    k := (k * 11601 + (((k * 52382) & 65535) << 16)) & 4294967295;
    k := ((k << 15) & 4294967295) | (k >> 17);
    h := h # ((k * 13715 + (((k * 7047) & 65535) << 16)) & 4294967295);
    h := (((((h << 13) & 4294967295) | (h >> 19)) * 5) + 3864292196) & 4294967295;  -- + 0xe6546b64
    i := i + 4;
  END LOOP;
  IF len > body THEN
    k := get_byte(data, body)::bigint;
    IF len - body >= 2 THEN k := k | (get_byte(data, body + 1)::bigint << 8); END IF;
    IF len - body = 3 THEN k := k | (get_byte(data, body + 2)::bigint << 16); END IF;
    k := (k * 11601 + (((k * 52382) & 65535) << 16)) & 4294967295;
    k := ((k << 15) & 4294967295) | (k >> 17);
    h := h # ((k * 13715 + (((k * 7047) & 65535) << 16)) & 4294967295);
  END IF;
  h := h # len;
  h := h # (h >> 16);
  h := (h * 51819 + (((h * 34283) & 65535) << 16)) & 4294967295;
  h := h # (h >> 13);
  h := (h * 44597 + (((h * 49842) & 65535) << 16)) & 4294967295;
  RETURN h # (h >> 16);
END;
$murmur3$`;

const BUCKET_OF = String.raw`
-- The bucket (0 .. 9999) of a unit for a flag, as flagd's fractional v2 computes it: murmur3
-- of the UTF-8 bytes of flag_key || unit_id (no separator), seed 0, scaled to 10000 buckets
-- by (hash * 10000) >> 32. hash * 10000 < 2^46: exact in bigint.
-- PL/pgSQL, not LANGUAGE sql: convert_to is only STABLE, so an IMMUTABLE SQL function around it
-- is never inlined, and a SQL function that is not inlined starts an executor on every call
-- (measured: the hot path of rollout.evaluate). The argument keeps its old name, unit_id:
-- CREATE OR REPLACE cannot rename an argument, and dropping the function would break what a
-- database built on it.
CREATE OR REPLACE FUNCTION rollout.bucket_of(flag_key text, unit_id text)
RETURNS int
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $bucket_of$
BEGIN
  RETURN (rollout.murmur3_32(convert_to(flag_key || unit_id, 'UTF8'), 0) * 10000) >> 32;
END;
$bucket_of$`;

const IN_ROLLOUT = String.raw`
-- Whether a unit is in a flag's canary at percent (0 .. 100, at most two decimals).
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
$in_rollout$`;

export const BUCKETING_SQL = `CREATE SCHEMA IF NOT EXISTS rollout;
${functionsOnce({
  name: 'rollout bucketing',
  signatures: ['rollout.murmur3_32(bytea,bigint)', 'rollout.bucket_of(text,text)', 'rollout.in_rollout(text,text,numeric)'],
  statements: [MURMUR3, BUCKET_OF, IN_ROLLOUT],
})}`;
