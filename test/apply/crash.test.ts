/**
 * Crash safety: SIGKILL at any point of an apply leaves flags and ledger consistent —
 * all of an apply or none of it — and the next apply completes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';

const CLI = fileURLToPath(new URL('../../actions/cli/index.ts', import.meta.url));
const FLAGS = 2_000;

const flagsYaml = (generation: number): string =>
  `flags:\n${Array.from({ length: FLAGS }, (_, i) => `  f${i}:\n    value: { generation: ${generation}, i: ${i} }\n`).join('')}`;

async function snapshot(db: TestDatabase): Promise<{ generations: number[]; ledger: number; lastChanged: number }> {
  const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
  try {
    const client = await database.connect();
    const { rows } = await client.query<{ g: number; n: number }>("SELECT (value->>'generation')::int AS g, count(*)::int AS n FROM rollout.flags GROUP BY 1 ORDER BY 1");
    const ledger = await client.query<{ n: number; last: number | null }>(
      'SELECT count(*)::int AS n, (SELECT count(*)::int FROM rollout.ledger_changes WHERE ledger_id = (SELECT max(id) FROM rollout.ledger)) AS last FROM rollout.ledger',
    );
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(FLAGS);
    return { generations: rows.map((r) => r.g), ledger: ledger.rows[0].n, lastChanged: ledger.rows[0].last ?? 0 };
  } finally {
    await database.close();
  }
}

function applyProcess(db: TestDatabase, extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--root', db.root, 'apply', '--env', 'test'], {
    env: { ...process.env, ...db.processEnv, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.resume();
  let stderr = '';
  const exited = new Promise<string | number>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  const paused = new Promise<void>((resolve) =>
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('paused before COMMIT')) resolve();
    }),
  );
  return {
    killAfter(ms: number) {
      setTimeout(() => child.kill('SIGKILL'), ms);
      return exited;
    },
    async killWhenPaused() {
      await paused;
      child.kill('SIGKILL');
      return exited;
    },
  };
}

describe.each(databaseTargets())('SIGKILL during apply on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('leaves all of an apply or none of it, at any moment, and the next apply completes', { timeout: 600_000 }, async () => {
    await writeEnvironment(db, flagsYaml(0));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    let expected = await snapshot(db);
    expect(expected).toEqual({ generations: [0], ledger: 1, lastChanged: FLAGS });

    // Deterministic: killed with every flag and the ledger entry written but not committed.
    await writeEnvironment(db, flagsYaml(1));
    expect(await applyProcess(db, { ROLLOUT_FAULT_PAUSE_BEFORE_COMMIT_MS: '60000' }).killWhenPaused()).toBe('SIGKILL');
    expect(await snapshot(db)).toEqual(expected);

    // Each round kills an apply of the next generation somewhere between start-up and commit.
    const delays = [300, 900, 1_500, 2_200, 3_000, 4_000, 5_500, 7_000];
    let generation = 0;
    for (const delay of delays) {
      await writeEnvironment(db, flagsYaml(generation + 1));
      const outcome = await applyProcess(db).killAfter(delay);
      const state = await snapshot(db);
      if (state.ledger === expected.ledger) {
        // Killed before commit: nothing of it is visible.
        expect(state.generations, `killed at ${delay} ms (${String(outcome)})`).toEqual([generation]);
      } else {
        // Committed: every flag moved and exactly one ledger entry records all of them.
        expect(state, `killed at ${delay} ms (${String(outcome)})`).toEqual({ generations: [generation + 1], ledger: expected.ledger + 1, lastChanged: FLAGS });
        generation += 1;
      }
      expected = state;
    }
    await writeEnvironment(db, flagsYaml(generation + 1));
    const final = await cliOn(db, ['apply', '--env', 'test']);
    expect(final.code, final.stderr).toBe(0);
    expect(await snapshot(db)).toEqual({ generations: [generation + 1], ledger: expected.ledger + 1, lastChanged: FLAGS });
  });
});
