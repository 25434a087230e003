/**
 * Other migration tools, run for real against a scratch database on the test server, so that
 * their history tables are exactly what each tool writes:
 *   dbmate (npm dbmate, its Go binary), node-pg-migrate (npm), the Supabase CLI (npm supabase,
 *   pinned: its platform package carries the binary), and Prisma's schema engine compiled to
 *   WebAssembly (@prisma/schema-engine-wasm with @prisma/adapter-pg: the engine behind
 *   `prisma migrate deploy`; the prisma CLI itself downloads a native engine at start-up and
 *   cannot run offline).
 * The migrated database is then copied into the test's own database (embedded or server) with
 * pg_dump, so that both kinds of database are adopted from the same real history.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestDatabase } from '../../support/databases.ts';
import { query } from './migrations.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'node_modules/.bin');

export type Tool = 'dbmate' | 'node-pg-migrate' | 'supabase' | 'prisma';

/** Migrate a scratch server database with `tool` from `directory`, copy it into `db`, drop the scratch. */
export async function migrateWith(tool: Tool, directory: string, db: TestDatabase, serverUrl: string): Promise<void> {
  const name = `rollout_tool_${randomBytes(5).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    await runTool(tool, directory, url.toString(), db.root);
    const { stdout } = await run('pg_dump', ['--no-owner', '--no-privileges', '--inserts', `--dbname=${url.toString()}`], { maxBuffer: 64 * 1024 * 1024 });
    // psql meta-commands (\restrict) are not SQL; the dump's SETs must not stay on the session.
    const dump = stdout.split('\n').filter((line) => !line.startsWith('\\')).join('\n');
    await query(db, `${dump}\nRESET ALL;`);
  } finally {
    await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function runTool(tool: Tool, directory: string, url: string, root: string): Promise<void> {
  switch (tool) {
    case 'dbmate': {
      const withSsl = new URL(url);
      withSsl.searchParams.set('sslmode', 'disable');
      await run(join(BIN, 'dbmate'), ['--url', withSsl.toString(), '--migrations-dir', directory, '--no-dump-schema', 'up']);
      return;
    }
    case 'node-pg-migrate':
      await run(join(BIN, 'node-pg-migrate'), ['up', '-m', directory, '--no-verbose'], { env: { ...process.env, DATABASE_URL: url } });
      return;
    case 'supabase': {
      const withSsl = new URL(url);
      withSsl.searchParams.set('sslmode', 'disable');
      // `supabase db push` reads <workdir>/supabase/migrations; init writes the config it needs there.
      await run(join(BIN, 'supabase'), ['init', '--workdir', root, '--yes'], { env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1' } }).catch(() => undefined);
      await run(join(BIN, 'supabase'), ['db', 'push', '--workdir', root, '--db-url', withSsl.toString(), '--yes'], { env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1' } });
      return;
    }
    case 'prisma':
      await prismaMigrateDeploy(directory, url);
      return;
  }
}

/**
 * What `prisma migrate deploy` does, with Prisma's own engine: the migration folders listed
 * and ordered as the Prisma CLI lists them (@prisma/migrate listMigrations: every folder with
 * its migration.sql, sorted by localeCompare), then the schema engine's applyMigrations.
 */
async function prismaMigrateDeploy(directory: string, url: string): Promise<void> {
  const runtime = await schemaEngineRuntime();
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url }));
  const engine = await runtime.SchemaEngine.new({ datamodels: undefined }, () => undefined, adapter);
  const entries = (await readdir(directory, { withFileTypes: true })).filter((e) => e.isDirectory());
  const migrationDirectories = await Promise.all(
    entries.map(async (entry) => ({
      path: entry.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: await readFile(join(directory, entry.name, 'migration.sql'), 'utf8') } },
    })),
  );
  migrationDirectories.sort((a, b) => a.path.localeCompare(b.path));
  const lockfile = await readFile(join(directory, 'migration_lock.toml'), 'utf8').catch(() => null);
  try {
    await engine.applyMigrations({
      migrationsList: { baseDir: directory, lockfile: { path: 'migration_lock.toml', content: lockfile }, shadowDbInitScript: '', migrationDirectories },
      filters: { externalTables: [], externalEnums: [] },
    });
  } finally {
    engine.free();
  }
}

/** WebAssembly as Node has it (the DOM typings that declare it are not in this project's lib). */
const WASM = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: Record<string, unknown> } } })
  .WebAssembly;

let loaded: Promise<typeof import('@prisma/schema-engine-wasm/schema_engine_bg')> | undefined;
/** The engine's WebAssembly, instantiated once per process as @prisma/internals' loader does (a second instance breaks the first). */
function schemaEngineRuntime() {
  return (loaded ??= (async () => {
    const runtime = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    // Where the engine reports a Rust panic (the Prisma CLI defines the same global).
    (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
      set_message(message: string) {
        throw new Error(`Prisma's schema engine panicked: ${message}`);
      },
    };
    const wasm = await readFile(join(ROOT, 'node_modules/@prisma/schema-engine-wasm/schema_engine_bg.wasm'));
    const instance = new WASM.Instance(new WASM.Module(wasm), { './schema_engine_bg.js': runtime });
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return runtime;
  })());
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
