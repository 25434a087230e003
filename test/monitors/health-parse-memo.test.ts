/**
 * `rollout health` keeps its monitor queries' parse trees in the user's cache between runs
 * (checks/parse-memo.ts): a changed query is judged and measured as written, never by the
 * tree of the text it replaced, and a query the guard refuses stays refused on later runs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';

const monitor = (sql: string): string => `monitors:\n  - name: queue depth\n    sql: ${sql}\n    above: 10\n`;

describe.each(databaseTargets())('health with kept parse trees on $name', (target) => {
  let db: TestDatabase;
  let cache: string;
  beforeEach(async () => {
    db = await target.create();
    cache = await mkdtemp(join(tmpdir(), 'rollout-health-cache-'));
    await writeEnvironment(db, monitor('SELECT 5 AS depth'));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(async () => {
    await db.dispose();
    await rm(cache, { recursive: true, force: true });
  });

  const health = async () => {
    const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json'], { ROLLOUT_CACHE_DIR: cache });
    const [result] = (JSON.parse(run.stdout) as HealthReport).results;
    return { code: run.code, status: result.status, value: result.value, detail: result.detail };
  };
  const kept = async (): Promise<number> => Object.keys((JSON.parse(await readFile(join(cache, 'sql-parse-1.json'), 'utf8')) as { trees: object }).trees).length;

  it('measures a changed query as written, and refuses a writing one on every run', async () => {
    expect(await health()).toMatchObject({ code: 0, status: 'healthy', value: 5 });
    expect(await kept()).toBe(1);
    // Kept tree used: the same answer.
    expect(await health()).toMatchObject({ code: 0, status: 'healthy', value: 5 });

    await writeEnvironment(db, monitor('SELECT 50 AS depth'));
    expect(await health()).toMatchObject({ code: 1, status: 'breach', value: 50 });
    expect(await kept()).toBe(2);

    await writeEnvironment(db, monitor('DELETE FROM rollout.measurements RETURNING 1'));
    for (let run = 0; run < 2; run++) {
      const refused = await health();
      expect(refused).toMatchObject({ code: 3, status: 'unknown' });
      expect(refused.detail).toMatch(/DELETE is not allowed in a check/);
    }
    expect((await cliOn(db, ['health', '--env', 'test', '--format', 'json', '--no-act'], { ROLLOUT_CACHE_DIR: 'off' })).code).toBe(3);
  });
});
