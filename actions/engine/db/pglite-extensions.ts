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

type Loader = () => Promise<Extension>;

/** Extension name (as CREATE EXTENSION names it) → its bundle, imported only when needed. */
const CONTRIB: Record<string, Loader> = {
  amcheck: async () => (await import('@electric-sql/pglite/contrib/amcheck')).amcheck,
  bloom: async () => (await import('@electric-sql/pglite/contrib/bloom')).bloom,
  btree_gin: async () => (await import('@electric-sql/pglite/contrib/btree_gin')).btree_gin,
  btree_gist: async () => (await import('@electric-sql/pglite/contrib/btree_gist')).btree_gist,
  citext: async () => (await import('@electric-sql/pglite/contrib/citext')).citext,
  cube: async () => (await import('@electric-sql/pglite/contrib/cube')).cube,
  dict_int: async () => (await import('@electric-sql/pglite/contrib/dict_int')).dict_int,
  dict_xsyn: async () => (await import('@electric-sql/pglite/contrib/dict_xsyn')).dict_xsyn,
  earthdistance: async () => (await import('@electric-sql/pglite/contrib/earthdistance')).earthdistance,
  file_fdw: async () => (await import('@electric-sql/pglite/contrib/file_fdw')).file_fdw,
  fuzzystrmatch: async () => (await import('@electric-sql/pglite/contrib/fuzzystrmatch')).fuzzystrmatch,
  hstore: async () => (await import('@electric-sql/pglite/contrib/hstore')).hstore,
  intarray: async () => (await import('@electric-sql/pglite/contrib/intarray')).intarray,
  isn: async () => (await import('@electric-sql/pglite/contrib/isn')).isn,
  lo: async () => (await import('@electric-sql/pglite/contrib/lo')).lo,
  ltree: async () => (await import('@electric-sql/pglite/contrib/ltree')).ltree,
  // One bundle (contrib/spi) holds autoinc, insert_username, moddatetime and refint.
  autoinc: async () => (await import('@electric-sql/pglite/contrib/moddatetime')).moddatetime,
  insert_username: async () => (await import('@electric-sql/pglite/contrib/moddatetime')).moddatetime,
  moddatetime: async () => (await import('@electric-sql/pglite/contrib/moddatetime')).moddatetime,
  refint: async () => (await import('@electric-sql/pglite/contrib/moddatetime')).moddatetime,
  pageinspect: async () => (await import('@electric-sql/pglite/contrib/pageinspect')).pageinspect,
  pg_buffercache: async () => (await import('@electric-sql/pglite/contrib/pg_buffercache')).pg_buffercache,
  pg_freespacemap: async () => (await import('@electric-sql/pglite/contrib/pg_freespacemap')).pg_freespacemap,
  pg_stat_statements: async () => (await import('@electric-sql/pglite/contrib/pg_stat_statements')).pg_stat_statements,
  pg_surgery: async () => (await import('@electric-sql/pglite/contrib/pg_surgery')).pg_surgery,
  pg_trgm: async () => (await import('@electric-sql/pglite/contrib/pg_trgm')).pg_trgm,
  pg_visibility: async () => (await import('@electric-sql/pglite/contrib/pg_visibility')).pg_visibility,
  pg_walinspect: async () => (await import('@electric-sql/pglite/contrib/pg_walinspect')).pg_walinspect,
  pgcrypto: async () => (await import('@electric-sql/pglite/contrib/pgcrypto')).pgcrypto,
  seg: async () => (await import('@electric-sql/pglite/contrib/seg')).seg,
  tablefunc: async () => (await import('@electric-sql/pglite/contrib/tablefunc')).tablefunc,
  tcn: async () => (await import('@electric-sql/pglite/contrib/tcn')).tcn,
  tsm_system_rows: async () => (await import('@electric-sql/pglite/contrib/tsm_system_rows')).tsm_system_rows,
  tsm_system_time: async () => (await import('@electric-sql/pglite/contrib/tsm_system_time')).tsm_system_time,
  unaccent: async () => (await import('@electric-sql/pglite/contrib/unaccent')).unaccent,
  'uuid-ossp': async () => (await import('@electric-sql/pglite/contrib/uuid_ossp')).uuid_ossp,
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
 * The PGlite.create() `extensions` option for these extension names: their bundles and the
 * bundles they require. Names PGlite cannot provide are skipped (plan reports them).
 */
export async function loadPgliteExtensions(names: Iterable<string>): Promise<Record<string, Extension>> {
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const required of REQUIRES[name] ?? []) add(required);
  };
  for (const name of names) add(name);
  const entries = await Promise.all(
    [...wanted].map(async (name): Promise<[string, Extension] | undefined> => {
      const load = CONTRIB[name];
      if (load) {
        const extension = await load();
        return [extension.name, extension];
      }
      if (name === 'vector' && pgvectorInstalled()) {
        // A package the project may or may not have: never resolved at build or type-check time.
        const specifier: string = PGVECTOR_PACKAGE;
        return ['vector', ((await import(specifier)) as { vector: Extension }).vector];
      }
      return undefined;
    }),
  );
  return Object.fromEntries(entries.filter((entry) => entry !== undefined));
}
