/**
 * The Postgres extensions the embedded database (PGlite) can provide. PGlite has plpgsql
 * built in; every other extension is a bundle (the extension's control, SQL and WASM files)
 * that must be handed to PGlite.create() before the database opens, or CREATE EXTENSION
 * fails with `extension "…" is not available`. Loading a bundle costs start-up time, so the
 * embedded database loads only the bundles its migrations create (see embeddedExtensions).
 *
 * The contrib set ships inside @electric-sql/pglite (one module per extension under
 * `contrib/`); `vector` (pgvector) is the separate package @electric-sql/pglite-pgvector,
 * available when the project installs it.
 */
import { createRequire } from 'node:module';
import type { Extension } from '@electric-sql/pglite';

/** Extensions PGlite has without a bundle. */
export const BUILT_IN_EXTENSIONS: ReadonlySet<string> = new Set(['plpgsql']);

/** Where a bundle is: the module to import and the name it exports (imported by the worker that hosts PGlite). */
export interface BundleImport {
  specifier: string;
  exportName: string;
}

/** Extension name (as CREATE EXTENSION names it) → its bundle, imported only when needed. */
const CONTRIB: Record<string, BundleImport> = {
  amcheck: { specifier: '@electric-sql/pglite/contrib/amcheck', exportName: 'amcheck' },
  bloom: { specifier: '@electric-sql/pglite/contrib/bloom', exportName: 'bloom' },
  btree_gin: { specifier: '@electric-sql/pglite/contrib/btree_gin', exportName: 'btree_gin' },
  btree_gist: { specifier: '@electric-sql/pglite/contrib/btree_gist', exportName: 'btree_gist' },
  citext: { specifier: '@electric-sql/pglite/contrib/citext', exportName: 'citext' },
  cube: { specifier: '@electric-sql/pglite/contrib/cube', exportName: 'cube' },
  dict_int: { specifier: '@electric-sql/pglite/contrib/dict_int', exportName: 'dict_int' },
  dict_xsyn: { specifier: '@electric-sql/pglite/contrib/dict_xsyn', exportName: 'dict_xsyn' },
  earthdistance: { specifier: '@electric-sql/pglite/contrib/earthdistance', exportName: 'earthdistance' },
  file_fdw: { specifier: '@electric-sql/pglite/contrib/file_fdw', exportName: 'file_fdw' },
  fuzzystrmatch: { specifier: '@electric-sql/pglite/contrib/fuzzystrmatch', exportName: 'fuzzystrmatch' },
  hstore: { specifier: '@electric-sql/pglite/contrib/hstore', exportName: 'hstore' },
  intarray: { specifier: '@electric-sql/pglite/contrib/intarray', exportName: 'intarray' },
  isn: { specifier: '@electric-sql/pglite/contrib/isn', exportName: 'isn' },
  lo: { specifier: '@electric-sql/pglite/contrib/lo', exportName: 'lo' },
  ltree: { specifier: '@electric-sql/pglite/contrib/ltree', exportName: 'ltree' },
  // One bundle (contrib/spi) holds autoinc, insert_username, moddatetime and refint.
  autoinc: { specifier: '@electric-sql/pglite/contrib/moddatetime', exportName: 'moddatetime' },
  insert_username: { specifier: '@electric-sql/pglite/contrib/moddatetime', exportName: 'moddatetime' },
  moddatetime: { specifier: '@electric-sql/pglite/contrib/moddatetime', exportName: 'moddatetime' },
  refint: { specifier: '@electric-sql/pglite/contrib/moddatetime', exportName: 'moddatetime' },
  pageinspect: { specifier: '@electric-sql/pglite/contrib/pageinspect', exportName: 'pageinspect' },
  pg_buffercache: { specifier: '@electric-sql/pglite/contrib/pg_buffercache', exportName: 'pg_buffercache' },
  pg_freespacemap: { specifier: '@electric-sql/pglite/contrib/pg_freespacemap', exportName: 'pg_freespacemap' },
  pg_stat_statements: { specifier: '@electric-sql/pglite/contrib/pg_stat_statements', exportName: 'pg_stat_statements' },
  pg_surgery: { specifier: '@electric-sql/pglite/contrib/pg_surgery', exportName: 'pg_surgery' },
  pg_trgm: { specifier: '@electric-sql/pglite/contrib/pg_trgm', exportName: 'pg_trgm' },
  pg_visibility: { specifier: '@electric-sql/pglite/contrib/pg_visibility', exportName: 'pg_visibility' },
  pg_walinspect: { specifier: '@electric-sql/pglite/contrib/pg_walinspect', exportName: 'pg_walinspect' },
  pgcrypto: { specifier: '@electric-sql/pglite/contrib/pgcrypto', exportName: 'pgcrypto' },
  seg: { specifier: '@electric-sql/pglite/contrib/seg', exportName: 'seg' },
  tablefunc: { specifier: '@electric-sql/pglite/contrib/tablefunc', exportName: 'tablefunc' },
  tcn: { specifier: '@electric-sql/pglite/contrib/tcn', exportName: 'tcn' },
  tsm_system_rows: { specifier: '@electric-sql/pglite/contrib/tsm_system_rows', exportName: 'tsm_system_rows' },
  tsm_system_time: { specifier: '@electric-sql/pglite/contrib/tsm_system_time', exportName: 'tsm_system_time' },
  unaccent: { specifier: '@electric-sql/pglite/contrib/unaccent', exportName: 'unaccent' },
  'uuid-ossp': { specifier: '@electric-sql/pglite/contrib/uuid_ossp', exportName: 'uuid_ossp' },
};

/** Extensions whose CREATE EXTENSION needs another one (the control file's `requires`): its bundle is loaded too. */
const REQUIRES: Record<string, string[]> = { earthdistance: ['cube'] };

const PGVECTOR_PACKAGE = '@electric-sql/pglite-pgvector';

/** Whether the project installed pgvector for PGlite (resolved from here, as the import would be). */
function pgvectorInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(PGVECTOR_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

/** Every extension the embedded database can provide here, sorted. */
export function pgliteExtensionNames(): string[] {
  return [...BUILT_IN_EXTENSIONS, ...Object.keys(CONTRIB), ...(pgvectorInstalled() ? ['vector'] : [])].sort();
}

export function pgliteCanProvide(extension: string): boolean {
  return BUILT_IN_EXTENSIONS.has(extension) || extension in CONTRIB || (extension === 'vector' && pgvectorInstalled());
}

/**
 * The bundles to import for these extension names: theirs and those they require. Names
 * PGlite cannot provide are skipped (plan reports them). Plain data, so that it can be
 * handed to the worker that opens PGlite (a bundle's setup function cannot cross threads).
 */
export function pgliteExtensionImports(names: Iterable<string>): BundleImport[] {
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const required of REQUIRES[name] ?? []) add(required);
  };
  for (const name of names) add(name);
  const imports = new Map<string, BundleImport>();
  for (const name of wanted) {
    const bundle = CONTRIB[name] ?? (name === 'vector' && pgvectorInstalled() ? { specifier: PGVECTOR_PACKAGE, exportName: 'vector' } : undefined);
    if (bundle) imports.set(`${bundle.specifier}#${bundle.exportName}`, bundle);
  }
  return [...imports.values()];
}

/** The PGlite.create() `extensions` option for these extension names (for code that opens PGlite itself). */
export async function loadPgliteExtensions(names: Iterable<string>): Promise<Record<string, Extension>> {
  const entries = await Promise.all(
    pgliteExtensionImports(names).map(async ({ specifier, exportName }) => {
      const extension = ((await import(specifier)) as Record<string, Extension>)[exportName];
      return [extension.name, extension] as const;
    }),
  );
  return Object.fromEntries(entries);
}
