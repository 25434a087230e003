/** rollout health measures monitors on several connections of a server, one session on the embedded database; results stay in file order. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../actions/engine/monitors/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';

describe.each(databaseTargets())('measuring many monitors on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    // Each measurement is the pid of the session that took it: which connections measured.
    const monitors = Array.from({ length: 8 }, (_, i) => `  - name: session ${i}\n    sql: SELECT pg_backend_pid()\n    above: 1000000000\n`).join('');
    await writeEnvironment(db, `monitors:\n${monitors}`);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
  });
  afterEach(() => db.dispose());

  const sessions = async (...args: string[]): Promise<{ names: string[]; pids: number }> => {
    const run = await cliOn(db, ['health', '--env', 'test', '--format', 'json', '--no-act', ...args]);
    expect(run.code, run.stderr).toBe(0);
    const { results } = JSON.parse(run.stdout) as HealthReport;
    return { names: results.map((r) => r.name), pids: new Set(results.map((r) => r.value)).size };
  };

  it('overlaps them on several connections of a server (4 by default, --concurrency N), one session on the embedded database, results in file order', async () => {
    const byDefault = await sessions();
    expect(byDefault.names).toEqual(Array.from({ length: 8 }, (_, i) => `session ${i}`));
    expect(byDefault.pids).toBe(target.name === 'server' ? 4 : 1);
    expect((await sessions('--concurrency', '2')).pids).toBe(target.name === 'server' ? 2 : 1);
    expect((await sessions('--concurrency', '1')).pids).toBe(1);
  });
});
