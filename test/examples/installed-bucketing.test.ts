/** After the first apply, services can ask the database whether a unit is in a flag's rollout. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inRollout, bucketOf } from '../../actions/engine/bucketing/index.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { runIn } from './support.ts';

describe.each(databaseTargets())('bucketing installed by apply, on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    const database = db.env.database.kind === 'embedded' ? `embedded: ${db.env.database.dir}` : db.env.database.kind === 'url' ? `url_env: ${db.env.database.urlEnv}` : '';
    await mkdir(join(db.root, 'environments'), { recursive: true });
    await mkdir(join(db.root, 'migrations'), { recursive: true });
    await writeFile(
      join(db.root, 'environments', 'test.yaml'),
      `version: 1\ndatabase:\n  ${database}\nflags:\n  checkout.v2:\n    value: true\n    off_value: false\n    rollout: { stage: canary, percent: 25 }\n`,
    );
  });
  afterEach(() => db.dispose());

  it('rollout.in_rollout and rollout.bucket_of answer as the TypeScript evaluator does', async () => {
    const applied = await runIn(db.root, ['apply', '--env', 'test'], db.processEnv);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const units = ['user-1', 'user-2', '00000000-0000-0000-0000-000000000001', 'ünïcode', '', 'a-much-longer-unit-identifier-for-tails'];
    const cases = units.flatMap((unit) => [0, 5, 25, 33.33, 100].map((percent) => ({ unit, percent })));
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      const { rows } = await client.query<{ unit: string; percent: number; bucket: number; inside: boolean }>(
        `SELECT c.unit, c.percent, rollout.bucket_of('checkout.v2', c.unit) AS bucket, rollout.in_rollout('checkout.v2', c.unit, c.percent) AS inside
           FROM jsonb_to_recordset($1::jsonb) AS c(unit text, percent numeric)`,
        [JSON.stringify(cases)],
      );
      expect(rows).toHaveLength(cases.length);
      // rollout.evaluate is installed with them (it answers once rollout.flag_definitions exists).
      const installed = await client.query<{ f: string | null }>(`SELECT to_regprocedure('rollout.evaluate(text,text,jsonb)')::text AS f`);
      expect(installed.rows[0].f).toBe('rollout.evaluate(text,text,jsonb)');
      for (const row of rows) {
        expect({ unit: row.unit, bucket: Number(row.bucket), inside: row.inside }).toEqual({
          unit: row.unit,
          bucket: bucketOf('checkout.v2', row.unit),
          inside: inRollout('checkout.v2', row.unit, Number(row.percent)),
        });
      }
    } finally {
      await database.close();
    }
  });
});
