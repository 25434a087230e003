/**
 * The SQL bucketing functions on real Postgres: embedded PGlite always, and the server
 * at TEST_DATABASE_URL when it is set (in a database created for this run and dropped
 * after). Both must match every golden vector and the TypeScript evaluator.
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETING_SQL, bucketOf } from '../../actions/engine/bucketing/index.ts';
import { loadVectors } from './vectors.ts';

const { published, vectors } = loadVectors();

/** The little a test needs from a connection, the same for PGlite and pg. */
interface Sql {
  exec(text: string): Promise<void>;
  rows<T>(text: string, params?: unknown[]): Promise<T[]>;
}


function bucketingSuite(name: string, connect: () => Promise<{ sql: Sql; close: () => Promise<void> }>): void {
  describe(name, () => {
    let sql: Sql;
    let close: () => Promise<void> = () => Promise.resolve();

    beforeAll(async () => {
      ({ sql, close } = await connect());
      // A database an earlier version set up: bucket_of in LANGUAGE sql, hashing key || ':' || unit mod 10000.
      await sql.exec(`CREATE SCHEMA IF NOT EXISTS rollout;
        CREATE FUNCTION rollout.murmur3_32(data bytea, seed bigint DEFAULT 0) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS 'SELECT 0::bigint';
        CREATE FUNCTION rollout.bucket_of(flag_key text, unit_id text) RETURNS int LANGUAGE sql IMMUTABLE STRICT
          AS $$ SELECT (rollout.murmur3_32(convert_to(flag_key || ':' || unit_id, 'UTF8'), 0) % 10000)::int $$`);
      await sql.exec(BUCKETING_SQL); // replaces them in place
      await sql.exec(BUCKETING_SQL); // installing twice is harmless
    });
    afterAll(() => close());

    it('leaves the functions untouched when installed again unchanged (no catalog rewrite, no plan invalidation)', async () => {
      const rows = () => sql.rows<{ name: string; xmin: string }>(`SELECT proname::text AS name, xmin::text AS xmin FROM pg_proc WHERE pronamespace = 'rollout'::regnamespace ORDER BY 1`);
      const before = await rows();
      expect(before.map((r) => r.name)).toEqual(expect.arrayContaining(['bucket_of', 'in_rollout', 'murmur3_32']));
      await sql.exec(BUCKETING_SQL);
      expect(await rows()).toEqual(before);
    });

    it('matches the published MurmurHash3 x86_32 values', async () => {
      const rows = await sql.rows<{ h: string }>(
        `SELECT rollout.murmur3_32(convert_to(t.input, 'UTF8'), t.seed)::text AS h
           FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(input, seed, n) ORDER BY n`,
        [published.map((p) => p.input), published.map((p) => String(p.seed))],
      );
      expect(rows.map((r) => Number(r.h))).toEqual(published.map((p) => p.murmur3));
    });

    it('matches every golden vector: hash, bucket and membership', async () => {
      const rows = await sql.rows<{ h: string; bucket: number }>(
        `SELECT rollout.murmur3_32(convert_to(t.k || t.u, 'UTF8'))::text AS h, rollout.bucket_of(t.k, t.u) AS bucket
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(k, u, n) ORDER BY n`,
        [vectors.map((v) => v.flagKey), vectors.map((v) => v.unitId)],
      );
      expect(rows.map((r) => Number(r.h))).toEqual(vectors.map((v) => v.murmur3));
      expect(rows.map((r) => r.bucket)).toEqual(vectors.map((v) => v.bucket));

      const checks = vectors.flatMap((v) => v.checks.map((c) => ({ ...v, ...c })));
      const members = await sql.rows<{ inside: boolean }>(
        `SELECT rollout.in_rollout(t.k, t.u, t.p) AS inside
           FROM unnest($1::text[], $2::text[], $3::numeric[]) WITH ORDINALITY AS t(k, u, p, n) ORDER BY n`,
        [checks.map((c) => c.flagKey), checks.map((c) => c.unitId), checks.map((c) => String(c.percent))],
      );
      expect(members.map((m) => m.inside)).toEqual(checks.map((c) => c.inRollout));
    });

    it('agrees with the TypeScript evaluator on random Unicode keys and unit ids', async () => {
      const noNul = (s: string): boolean => !s.includes('\u0000'); // Postgres text cannot hold NUL
      const pairs = fc.sample(fc.tuple(fc.string({ unit: 'binary' }).filter(noNul), fc.string({ unit: 'binary', maxLength: 80 }).filter(noNul)), { numRuns: 500, seed: 5 });
      const rows = await sql.rows<{ bucket: number }>(
        `SELECT rollout.bucket_of(t.k, t.u) AS bucket FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(k, u, n) ORDER BY n`,
        [pairs.map(([k]) => k), pairs.map(([, u]) => u)],
      );
      expect(rows.map((r) => r.bucket)).toEqual(pairs.map(([k, u]) => bucketOf(k, u)));
    });

    it('puts 25% of 10,000 units in the rollout within ±1 point, and only adds units as the percent rises', async () => {
      const [row] = await sql.rows<{ at5: number; at25: number; lost: number }>(
        `SELECT count(*) FILTER (WHERE rollout.in_rollout('checkout.v2', 'user-' || i, 5))::int AS at5,
                count(*) FILTER (WHERE rollout.in_rollout('checkout.v2', 'user-' || i, 25))::int AS at25,
                count(*) FILTER (WHERE rollout.in_rollout('checkout.v2', 'user-' || i, 5)
                                   AND NOT rollout.in_rollout('checkout.v2', 'user-' || i, 25))::int AS lost
           FROM generate_series(0, 9999) AS i`,
      );
      expect(Math.abs(row.at25 / 100 - 25)).toBeLessThanOrEqual(1);
      expect(Math.abs(row.at5 / 100 - 5)).toBeLessThanOrEqual(1);
      expect(row.lost).toBe(0);
    });

    it('refuses a percent outside 0..100 or finer than 0.01, and passes NULL through', async () => {
      for (const bad of ['-1', '100.01', '12.345', 'NaN']) {
        await expect(sql.rows(`SELECT rollout.in_rollout('f', 'u', $1::numeric)`, [bad])).rejects.toThrow(/Invalid rollout percent .* Expected a number from 0 to 100/);
      }
      const [row] = await sql.rows<{ b: number | null; r: boolean | null }>(`SELECT rollout.bucket_of('f', NULL) AS b, rollout.in_rollout('f', 'u', NULL) AS r`);
      expect(row).toEqual({ b: null, r: null });
    });
  });
}

bucketingSuite('SQL bucketing on PGlite', async () => {
  const db = await PGlite.create();
  return {
    sql: {
      exec: async (text) => void (await db.exec(text)),
      rows: async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows,
    },
    close: () => db.close(),
  };
});

const serverUrl = process.env.TEST_DATABASE_URL;
if (serverUrl) {
  bucketingSuite('SQL bucketing on the Postgres server at TEST_DATABASE_URL', async () => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const database = `rollout_bucketing_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    return {
      sql: {
        exec: async (text) => void (await client.query(text)),
        rows: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
      },
      close: async () => {
        await client.end();
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${database}`);
        } finally {
          await admin.end();
        }
      },
    };
  });
}
