/**
 * The examples/ repositories as test fixtures: copied to a temp directory, every
 * environment given its own fresh database (embedded always; on the server target each
 * `embedded:` line becomes a url_env naming a fresh server database), and the real CLI
 * run in-process on them.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from '../../actions/cli/main.ts';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import type { JsonValue } from '../../actions/engine/config/model.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { editEnvironmentText } from '../../actions/engine/promote/edit-file.ts';
import type { Position } from '../../actions/engine/stages/ladder.ts';
import { EMBEDDED_DIR, type DatabaseTarget, type TestDatabase } from '../support/databases.ts';
import { STAND_IN_EXAMPLES, startStandIn, type StandIn } from '../../examples/stand-in-api.mjs';

export const EXAMPLES = join(import.meta.dirname, '../../examples');

export interface ExampleRepo {
  root: string;
  env: NodeJS.ProcessEnv;
  /** Run `rollout <args> --root <root>`; `now` sets ROLLOUT_NOW (with ROLLOUT_TEST_CLOCK=1, so that apply takes it too). */
  run(args: string[], options?: { now?: Date; env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** Run SQL on an environment's database (after the CLI released it). */
  query<T extends pg.QueryResultRow = Record<string, unknown>>(environment: string, sql: string, params?: unknown[]): Promise<T[]>;
  /** Rewrite an environment file with a function of its text. */
  edit(environment: string, change: (text: string) => string): Promise<void>;
  read(path: string): Promise<string>;
  /** The example's stand-in service (examples/stand-in-api.mjs) its HTTP checks call, when it has one. */
  standIn?: StandIn;
  dispose(): Promise<void>;
}

/**
 * What the stand-ins are started with: credentials the checks must send, and the seed 002
 * switches as a service reading the value table sees them until a flag is full: the off
 * value ("default OFF"). when_flag reads that value too.
 */
export const STAND_IN_ENV: NodeJS.ProcessEnv = {
  AUTOPACK_API_KEY: 'stand-in-test-api-key-1f3c',
  STAGING_TOKEN: 'stand-in-test-token-9b2e',
  AUTOPACK_ENABLE_PHASE6_METRICS: '0',
  AUTOPACK_ENABLE_CONSOLIDATED_METRICS: '0',
};

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runIn(root: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    ['--root', root, ...args],
    { stdout: { write: (s: string) => (stdout += s), isTTY: false }, stderr: { write: (s: string) => (stderr += s) } },
    { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  );
  return { code, stdout, stderr };
}

export async function exampleRepo(example: string, target: DatabaseTarget): Promise<ExampleRepo> {
  const root = await mkdtemp(join(tmpdir(), `rollout-example-${example}-`));
  await cp(join(EXAMPLES, example), root, { recursive: true, filter: (source) => !source.includes(`${join(EXAMPLES, example)}/.rollout`) });
  const databases: TestDatabase[] = [];
  const env: NodeJS.ProcessEnv = {};
  for (const file of (await readdir(join(root, 'environments'))).filter((f) => f.endsWith('.yaml'))) {
    const name = file.replace(/\.yaml$/, '');
    const path = join(root, 'environments', file);
    const text = await readFile(path, 'utf8');
    const embedded = /^( *)embedded: *([^\s#]+)/m.exec(text);
    if (!embedded) continue;
    const db = await target.create();
    databases.push(db);
    if (db.url) {
      const variable = `ROLLOUT_TEST_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
      env[variable] = db.url;
      await writeFile(path, text.replace(embedded[0], `${embedded[1]}url_env: ${variable}`));
    } else {
      // A fresh, initialised data directory (copied from the shared template) where the file says.
      await cp(join(db.root, EMBEDDED_DIR), join(root, embedded[2]), { recursive: true });
    }
  }
  // The example's HTTP checks call its service: start the stand-in and point them at it.
  const standIn = STAND_IN_EXAMPLES.includes(example) ? await startStandIn(example, { env: STAND_IN_ENV }) : undefined;
  Object.assign(env, standIn?.variables);
  return repoHandle(root, env, databases, standIn);
}

/** run/query/edit/read/dispose over a copied repository and the databases made for it (examples and the root alike). */
export function repoHandle(root: string, env: NodeJS.ProcessEnv, databases: readonly TestDatabase[], standIn?: ExampleRepo['standIn']): ExampleRepo {
  return {
    root,
    env,
    ...(standIn ? { standIn } : {}),
    run: (args, options = {}) => runIn(root, args, { ...env, ...options.env, ...(options.now ? { ROLLOUT_NOW: options.now.toISOString(), ROLLOUT_TEST_CLOCK: '1' } : {}) }),
    async query<T extends pg.QueryResultRow>(environment: string, sql: string, params: unknown[] = []): Promise<T[]> {
      const { environment: model } = loadEnvironment(root, environment);
      const db = await openDatabase(model, { root, processEnv: env });
      try {
        const client = await db.connect();
        return (await client.query<T>(sql, params)).rows;
      } finally {
        await db.close();
      }
    },
    async edit(environment, change) {
      const path = join(root, 'environments', `${environment}.yaml`);
      await writeFile(path, change(await readFile(path, 'utf8')));
    },
    read: (path) => readFile(join(root, path), 'utf8'),
    async dispose() {
      await standIn?.close();
      await Promise.all(databases.map((db) => db.dispose()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Move a flag in an environment file's text, with promote's minimal editor (comments and layout stay). */
export const setRollout = (text: string, key: string, to: Position): string => editEnvironmentText('environment', text, [{ kind: 'position', key, to }]);

/** Set a flag's value in an environment file's text. */
export const setValue = (text: string, key: string, value: JsonValue): string => editEnvironmentText('environment', text, [{ kind: 'value', key, value }]);

export const days = (n: number): number => n * 86_400_000;
/** A time `ms` after the real clock: soaks count from stage_since, which the database stamps with its own clock. */
export const later = (ms: number): Date => new Date(Date.now() + ms);
