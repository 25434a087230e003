/**
 * Fleets for tests: N databases on the test server (created and dropped by the test), or N
 * embedded data directories, and a repository whose environment file lists them.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { conventionalUrlEnv } from '../../actions/engine/fleet/config.ts';
import { databaseTargets } from '../support/databases.ts';

export interface TestFleet {
  root: string;
  names: string[];
  /** TENANT_<NAME>_URL for every target (server fleets). */
  processEnv: NodeJS.ProcessEnv;
  /** Run SQL on one target's database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(target: string, sql: string, params?: unknown[]): Promise<R[]>;
  dispose(): Promise<void>;
}

export const URL_TEMPLATE = 'TENANT_{NAME}_URL';
export const targetName = (i: number): string => `t${String(i + 1).padStart(2, '0')}`;

/** `count` databases on the server at adminUrl, named after this run, dropped by dispose(). */
export async function serverFleet(adminUrl: string, count: number): Promise<TestFleet> {
  const run = randomBytes(4).toString('hex');
  const names = Array.from({ length: count }, (_, i) => targetName(i));
  const databases = new Map(names.map((n) => [n, `rollout_fleet_${run}_${n}`]));
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const db of databases.values()) await admin.query(`CREATE DATABASE ${db}`);
  } finally {
    await admin.end();
  }
  const urlOf = (name: string): string => {
    const url = new URL(adminUrl);
    url.pathname = `/${databases.get(name)}`;
    return url.toString();
  };
  const root = await mkdtemp(join(tmpdir(), 'rollout-fleet-'));
  return {
    root,
    names,
    processEnv: Object.fromEntries(names.map((n) => [conventionalUrlEnv(URL_TEMPLATE, n), urlOf(n)])),
    async query<R extends pg.QueryResultRow>(target: string, sql: string, params?: unknown[]): Promise<R[]> {
      const client = new pg.Client({ connectionString: urlOf(target) });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async dispose() {
      await rm(root, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        for (const db of databases.values()) await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** `count` embedded data directories (copies of an initialised one) under one repository. */
export async function embeddedFleet(count: number): Promise<TestFleet & { dirs: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'rollout-fleet-'));
  const names = Array.from({ length: count }, (_, i) => targetName(i));
  const dirs = names.map((n) => `.rollout/fleet/${n}`);
  const made = await databaseTargets()[0].create();
  try {
    for (const dir of dirs) {
      await mkdir(join(root, dir, '..'), { recursive: true });
      await cp(join(made.root, made.env.database.kind === 'embedded' ? made.env.database.dir : ''), join(root, dir), { recursive: true });
    }
  } finally {
    await made.dispose();
  }
  return {
    root,
    names,
    dirs,
    processEnv: {},
    query: () => Promise.reject(new Error('embedded fleets are read through the CLI')),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

export async function writeRepository(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
}
