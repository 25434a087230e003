/**
 * rollout.evaluate (actions/engine/store/evaluate-sql.ts) on both databases — embedded PGlite
 * behind its socket, and the server at TEST_DATABASE_URL when set — over the contract fixture
 * of rollout.flag_definitions: every row of the shared table gives what the pure rule gives;
 * unknown and unreadable flags answer as OpenFeature says; it installs idempotently and works
 * read-only; and over 100,000 units SQL's bucket equals bucket.ts's, and the canary
 * membership of both equals @openfeature/flagd-core's evaluating the exported flagd file.
 */
import { readFileSync } from 'node:fs';
import { FlagdCore, MemoryStorage } from '@openfeature/flagd-core';
import type { Logger } from '@openfeature/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETING_SQL } from '../../actions/engine/bucketing/bucketing-sql.ts';
import { toFlagd } from '../../actions/engine/export/flagd.ts';
import { EVALUATE_SQL } from '../../actions/engine/store/evaluate-sql.ts';
import { bucketOf } from '../../packages/provider/src/bucket.ts';
import type { FlagDefinition } from '../../packages/provider/src/definition.ts';
import { evaluate } from '../../packages/provider/src/rule.ts';
import { INTERNAL, SERVING_CASES } from './cases.ts';
import { servingTargets, writeDefinitions, writeRawRow, type ServingDatabase } from './support/definitions.ts';

const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

interface EvaluateRow {
  value: unknown;
  variant: string | null;
  reason: string;
  stage: string | null;
  shadow_value: unknown;
  segment: string | null;
  error_code: string | null;
  ledger_id: string | null;
}

const EVALUATE = 'SELECT * FROM rollout.evaluate($1, $2, $3::jsonb)';
const flag = (key: string, fields: Partial<FlagDefinition>): FlagDefinition => ({ key, value: 'on-value', offValue: 'off-value', stage: null, percent: 0, segments: [], killSwitch: false, ledgerId: null, ...fields });

describe.each(servingTargets())('rollout.evaluate on the $name database', (target) => {
  let db: ServingDatabase;

  beforeAll(async () => {
    db = await target.open();
    await db.writer.query(BUCKETING_SQL);
    await db.writer.query(EVALUATE_SQL);
    await db.writer.query(EVALUATE_SQL); // installing twice is harmless
  });
  afterAll(() => db?.dispose());

  async function evaluateSql(key: string, unit: Record<string, unknown>): Promise<EvaluateRow[]> {
    const { targetingKey, ...attributes } = unit;
    return (await db.writer.query<EvaluateRow>(EVALUATE, [key, targetingKey ?? null, JSON.stringify(attributes)])).rows;
  }

  it.each(SERVING_CASES)('$name', async ({ definition, unit, expected }) => {
    const ledgerId = await writeDefinitions(db.writer, [definition]);
    const rows = await evaluateSql(definition.key, unit);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect({ value: row.value, variant: row.variant, reason: row.reason, ...(row.shadow_value !== null ? { shadowValue: row.shadow_value } : {}) }).toEqual(expected);
    const rule = evaluate(definition, unit);
    expect({ stage: row.stage, segment: row.segment, error_code: row.error_code, ledger_id: Number(row.ledger_id) }).toEqual({ stage: definition.stage, segment: rule.segment ?? null, error_code: null, ledger_id: ledgerId });
  });

  it('answers FLAG_NOT_FOUND (reason ERROR, value NULL) for a flag that is not defined', async () => {
    expect(await evaluateSql('no.such_flag', { targetingKey: 'user-1' })).toEqual([
      { value: null, variant: null, reason: 'ERROR', stage: null, shadow_value: null, segment: null, error_code: 'FLAG_NOT_FOUND', ledger_id: null },
    ]);
  });

  it('answers PARSE_ERROR for a row the rule cannot read, for that flag only', async () => {
    await writeRawRow(db.writer, 'broken.stage', { value: true, off_value: false, stage: 'partial' });
    await writeRawRow(db.writer, 'broken.segments', { value: true, off_value: false, stage: 'dark', segments: { name: 'internal' } });
    await writeRawRow(db.writer, 'broken.percent', { value: true, off_value: false, stage: 'canary', percent: 250 });
    await writeDefinitions(db.writer, [flag('fine.flag', { stage: 'full' })]);
    for (const key of ['broken.stage', 'broken.segments', 'broken.percent']) {
      expect(await evaluateSql(key, { targetingKey: 'user-1' }), key).toMatchObject([{ value: null, variant: null, reason: 'ERROR', error_code: 'PARSE_ERROR' }]);
    }
    expect(await evaluateSql('fine.flag', { targetingKey: 'user-1' })).toMatchObject([{ value: 'on-value', variant: 'on', reason: 'STATIC', error_code: null }]);
  });

  it('serves JSON null, not SQL NULL, for a definition whose off value is null', async () => {
    await writeDefinitions(db.writer, [flag('null.off', { stage: 'off', offValue: null })]);
    const { rows } = await db.writer.query<{ is_sql_null: boolean; text: string }>(`SELECT value IS NULL AS is_sql_null, value::text AS text FROM rollout.evaluate('null.off', 'u')`);
    expect(rows).toEqual([{ is_sql_null: false, text: 'null' }]);
  });

  it('takes attributes as optional, and a NULL targeting key as none', async () => {
    const definition = flag('optional.args', { stage: 'canary', percent: 100, segments: [INTERNAL] });
    await writeDefinitions(db.writer, [definition]);
    const two = await db.writer.query<EvaluateRow>(`SELECT * FROM rollout.evaluate('optional.args', 'alice@corp')`);
    expect(two.rows).toMatchObject([{ value: 'on-value', reason: 'TARGETING_MATCH', segment: 'internal' }]);
    const noKey = await db.writer.query<EvaluateRow>(`SELECT * FROM rollout.evaluate('optional.args', NULL, NULL)`);
    expect(noKey.rows).toMatchObject([{ value: 'off-value', variant: 'off', reason: 'DEFAULT' }]);
    // A segment may match on the targeting key as an attribute, as OpenFeature's context has it.
    await writeDefinitions(db.writer, [flag('by.attribute_key', { stage: 'dark', segments: [{ name: 'one', attributes: { targetingKey: ['carol'] } }] })]);
    expect(await evaluateSql('by.attribute_key', { targetingKey: 'carol' })).toMatchObject([{ value: 'on-value', segment: 'one' }]);
    expect(evaluate(flag('by.attribute_key', { stage: 'dark', segments: [{ name: 'one', attributes: { targetingKey: ['carol'] } }] }), { targetingKey: 'carol' }).value).toBe('on-value');
  });

  it('answers inside a read-only transaction (a replica, or a role with SELECT only)', async () => {
    await writeDefinitions(db.writer, [flag('read.only', { stage: 'canary', percent: 100 })]);
    await db.writer.query('BEGIN READ ONLY');
    try {
      expect(await evaluateSql('read.only', { targetingKey: 'user-1' })).toMatchObject([{ value: 'on-value', reason: 'SPLIT' }]);
    } finally {
      await db.writer.query('ROLLBACK');
    }
  });

  it('is left untouched by a second install, and replaces an older function of another shape', async () => {
    // xmin changes whenever the catalog row is rewritten (which would invalidate every session's compiled copy).
    const row = async () => (await db.writer.query<{ row: string | null }>(`SELECT oid::text || '/' || xmin::text AS row FROM pg_proc WHERE oid = to_regprocedure('rollout.evaluate(text,text,jsonb)')`)).rows[0]?.row;
    const before = await row();
    expect(before).toMatch(/^\d+\/\d+$/);
    await db.writer.query(EVALUATE_SQL);
    expect(await row()).toBe(before);
    await db.writer.query(`DROP FUNCTION rollout.evaluate(text, text, jsonb);
      CREATE FUNCTION rollout.evaluate(flag_key text, targeting_key text, attributes jsonb DEFAULT '{}')
      RETURNS TABLE (value jsonb, variant text) LANGUAGE sql STABLE AS $$ SELECT NULL::jsonb, 'old'::text $$`);
    await db.writer.query(EVALUATE_SQL);
    await writeDefinitions(db.writer, [flag('replaced.flag', { stage: 'full' })]);
    expect(await evaluateSql('replaced.flag', {})).toMatchObject([{ value: 'on-value', variant: 'on', segment: null }]);
  });

  it('buckets 100,000 units as bucket.ts does, and serves the canary flagd-core serves at several percents', async () => {
    const units = Array.from({ length: 100_000 }, (_, i) => `user-${i * 7919}@example.com`);
    const { rows } = await db.writer.query<{ bucket: number }>(
      `SELECT rollout.bucket_of('oracle.canary', u) AS bucket FROM unnest($1::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n`,
      [units],
    );
    const sqlBuckets = rows.map((r) => r.bucket);
    expect(sqlBuckets).toHaveLength(units.length);
    let differ = 0;
    for (const [i, unit] of units.entries()) if (sqlBuckets[i] !== bucketOf('oracle.canary', unit)) differ += 1;
    expect(differ).toBe(0);

    for (const percent of [0.01, 5, 25, 50, 99.99]) {
      const definition = flag('oracle.canary', { stage: 'canary', percent });
      const core = new FlagdCore(new MemoryStorage(quiet), quiet);
      core.setConfigurations(JSON.stringify(toFlagd([definition]).document));
      const threshold = Math.round(percent * 100);
      let inside = 0;
      let disagree = 0;
      for (const [i, targetingKey] of units.entries()) {
        const theirs = core.resolveStringEvaluation('oracle.canary', 'default', { targetingKey }, quiet).variant;
        const ours = sqlBuckets[i] < threshold ? 'on' : 'off';
        if (ours === 'on') inside += 1;
        if (theirs !== ours) disagree += 1;
      }
      expect(disagree, `flagd-core at ${percent}%`).toBe(0);
      expect(Math.abs(inside / 1000 - percent), `share at ${percent}%`).toBeLessThan(1);
    }
  });

  it('reproduces the flagd-testbed v2 fractional examples with rollout.bucket_of', async () => {
    const vectors = JSON.parse(readFileSync(new URL('../fixtures/flagd-testbed/fractional-v2-vectors.json', import.meta.url), 'utf8')) as Record<string, { examples: Array<[string, string]> }>;
    // Each testbed flag: the string its fractional hashes before the unit, and its variants in quarters or halves of the 10,000 buckets.
    const flags: Record<string, { seed: string; variants: string[] }> = {
      'fractional-flag': { seed: 'fractional-flag', variants: ['clubs', 'diamonds', 'hearts', 'spades'] },
      'fractional-flag-shorthand': { seed: 'fractional-flag-shorthand', variants: ['heads', 'tails'] },
      'fractional-flag-A-shared-seed': { seed: 'shared-seed', variants: ['clubs', 'diamonds', 'hearts', 'spades'] },
      'fractional-flag-B-shared-seed': { seed: 'shared-seed', variants: ['ace-of-clubs', 'ace-of-diamonds', 'ace-of-hearts', 'ace-of-spades'] },
      'fractional-hash-edge-flag': { seed: '', variants: ['lower', 'upper'] },
    };
    const rows = Object.entries(vectors).flatMap(([name, { examples }]) => examples.map(([input, variant]) => ({ name, input, variant })));
    expect(rows.length).toBeGreaterThanOrEqual(18);
    const { rows: buckets } = await db.writer.query<{ bucket: number }>(
      'SELECT rollout.bucket_of(t.seed, t.input) AS bucket FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(seed, input, n) ORDER BY n',
      [rows.map((r) => flags[r.name].seed), rows.map((r) => r.input)],
    );
    const got = rows.map((r, i) => flags[r.name].variants[Math.floor((buckets[i].bucket * flags[r.name].variants.length) / 10_000)]);
    expect(got).toEqual(rows.map((r) => r.variant));
  });

  it('serves the whole function over 20,000 units as the rule does (canary 25 % with a segment)', async () => {
    const definition = flag('bulk.canary', { stage: 'canary', percent: 25, segments: [INTERNAL] });
    await writeDefinitions(db.writer, [definition]);
    const units = Array.from({ length: 20_000 }, (_, i) => ({ targetingKey: `acct-${i}`, ...(i % 101 === 0 ? { email_domain: 'corp.example' } : {}) }));
    const { rows } = await db.writer.query<{ variant: string; reason: string }>(
      `SELECT e.variant, e.reason
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(unit, n)
        CROSS JOIN LATERAL rollout.evaluate('bulk.canary', t.unit ->> 'targetingKey', t.unit - 'targetingKey') AS e
        ORDER BY t.n`,
      [JSON.stringify(units)],
    );
    const expected = units.map((unit) => evaluate(definition, unit));
    expect(rows.map((r) => `${r.variant}/${r.reason}`)).toEqual(expected.map((r) => `${r.variant}/${r.reason}`));
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(['SPLIT', 'TARGETING_MATCH']));
  });
});
