/**
 * Where database tests run: always on the embedded database (PGlite), and also on a
 * real server when TEST_DATABASE_URL is set. Every test gets a fresh, isolated database:
 * a temp directory for PGlite, CREATE DATABASE rollout_test_<random> on the server.
 *
 *   describe.each(databaseTargets())('on $name', (target) => {
 *     let db: TestDatabase;
 *     beforeEach(async () => { db = await target.create(); });
 *     afterEach(() => db.dispose());
 *   });
 */
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { DEFAULT_MIGRATION_SETTINGS, type DatabaseSpec, type Environment, type MigrationSettings } from '../../actions/engine/config/model.ts';
import { LOCK_FILE_NAME, lockDataDir } from '../../actions/engine/db/data-dir-lock.ts';

export interface TestDatabase {
  /** A temp repository root (empty): write migrations/ and environments/ here. */
  root: string;
  /** An environment pointing at this database. */
  env: Environment;
  /** Process environment to pass to openDatabase (holds the server URL, if any). */
  processEnv: NodeJS.ProcessEnv;
  /** The server database URL (server targets only). */
  url?: string;
  /** Drop the database and delete the temp root. */
  dispose(): Promise<void>;
}

/** Fields of the test Environment to override; migrations is merged over the defaults. */
export type EnvironmentOverrides = Partial<Omit<Environment, 'database' | 'migrations'>> & { migrations?: Partial<MigrationSettings> };

export interface DatabaseTarget {
  name: 'embedded' | 'server';
  create(overrides?: EnvironmentOverrides): Promise<TestDatabase>;
}

export const TEST_URL_VARIABLE = 'ROLLOUT_TEST_DATABASE_URL';
export const EMBEDDED_DIR = '.rollout/db';

export function databaseTargets(): DatabaseTarget[] {
  const targets: DatabaseTarget[] = [{ name: 'embedded', create: createEmbedded }];
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) targets.push({ name: 'server', create: (overrides) => createOnServer(serverUrl, overrides) });
  return targets;
}

/** Build an Environment with test defaults: fast lock waits, default migration settings. */
export function testEnvironment(
  database: DatabaseSpec,
  overrides: EnvironmentOverrides = {},
): Environment {
  const { migrations, ...rest } = overrides;
  return {
    name: 'test',
    file: 'environments/test.yaml',
    flags: new Map(),
    checks: [],
    monitors: [],
    ...rest,
    database,
    migrations: { ...DEFAULT_MIGRATION_SETTINGS, advisoryLock: { mode: 'wait', timeoutMs: 30_000 }, ...migrations },
  };
}

async function createEmbedded(overrides: EnvironmentOverrides = {}): Promise<TestDatabase> {
  const root = await mkdtemp(join(tmpdir(), 'rollout-test-'));
  // initdb takes ~5 s in PGlite; copying an initialised template takes a fraction of that.
  // Another worker may hold the template's lock file while it looks at the template: the copy
  // must not inherit it, and must skip it before stat (it can vanish between listing and stat).
  const template = await embeddedTemplate();
  await cp(template, join(root, EMBEDDED_DIR), { recursive: true, filter: (source) => source !== join(template, LOCK_FILE_NAME) });
  await rm(join(root, EMBEDDED_DIR, LOCK_FILE_NAME), { force: true });
  return {
    root,
    env: testEnvironment({ kind: 'embedded', dir: EMBEDDED_DIR }, overrides),
    processEnv: {},
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

let template: Promise<string> | undefined;
/** One initialised, empty PGlite data directory per PGlite version, shared by test workers. */
function embeddedTemplate(): Promise<string> {
  return (template ??= (async () => {
    // Keyed by the installed PGlite version: a data directory is only readable by the version that made it.
    // Found where Node resolves the package, not under process.cwd(): Stryker's sandbox has no node_modules of its own.
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const packageDir = entry.slice(0, entry.lastIndexOf(`${sep}@electric-sql${sep}pglite${sep}`) + `${sep}@electric-sql${sep}pglite`.length);
    const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string };
    const dir = join(tmpdir(), `rollout-pglite-template-${version}`);
    const ready = join(dir, 'PG_VERSION');
    await mkdir(dir, { recursive: true });
    const release = await lockDataDir(dir, { mode: 'wait', timeoutMs: 120_000 });
    try {
      if (!(await exists(ready))) {
        const db = await PGlite.create(dir);
        await db.close();
      }
    } finally {
      await release();
    }
    return dir;
  })());
}

async function createOnServer(adminUrl: string, overrides: EnvironmentOverrides = {}): Promise<TestDatabase> {
  const name = `rollout_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const root = await mkdtemp(join(tmpdir(), 'rollout-test-'));
  return {
    root,
    url: url.toString(),
    env: testEnvironment({ kind: 'url', urlEnv: TEST_URL_VARIABLE }, overrides),
    processEnv: { [TEST_URL_VARIABLE]: url.toString() },
    async dispose() {
      await rm(root, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
