/**
 * Extensions a migration history creates, and whether the embedded database can provide them.
 *
 * Two readings, for two needs:
 * - `extensionsNamedIn` is lexical and cheap (no parser): which PGlite bundles to load before
 *   the embedded database opens. It reads every file of the history, applied ones too: an
 *   extension created by an applied file must be loaded again for its functions to work. A
 *   false positive (the words in a string) only loads one bundle too many.
 * - `unavailableExtensionProblems` uses the parser's CREATE EXTENSION statements (plan parses
 *   every pending file; apply parses every file that mentions EXTENSION): an extension PGlite
 *   cannot provide is refused before anything runs, at its file, line and column.
 */
import type { Problem } from '../problems.ts';
import type { DatabaseSpec } from '../config/model.ts';
import { pgliteCanProvide, pgliteExtensionNames } from '../db/pglite-extensions.ts';
import { SUPABASE_STAND_IN_EXTENSIONS, isSupabaseStandInExtension } from '../db/platform-supabase.ts';
import { lineColumnAt } from './position.ts';

const CREATE_EXTENSION = /\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)/gi;

/** Extension names in CREATE EXTENSION statements of `sql`, comments skipped (lower-cased unless quoted). */
export function extensionsNamedIn(sql: string): string[] {
  if (!/extension/i.test(sql)) return [];
  const code = sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n\r]*/g, ' ');
  return [...code.matchAll(CREATE_EXTENSION)].map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1].toLowerCase()));
}

/** A CREATE EXTENSION statement, from the parser. */
export interface CreatedExtension {
  name: string;
  /** 0-based character offset of the statement's first code in the file. */
  offset: number;
}

export function unavailableExtensionProblems(
  database: DatabaseSpec,
  envFile: string,
  files: readonly { path: string; sql: string; extensions: readonly CreatedExtension[] }[],
): Problem[] {
  if (database.kind !== 'embedded') return [];
  const supabase = database.platform === 'supabase';
  const problems: Problem[] = [];
  for (const file of files) {
    for (const extension of file.extensions) {
      if (pgliteCanProvide(extension.name)) continue;
      // An extension a Supabase project has: the platform gives a stand-in (platform-supabase.ts).
      if (supabase && isSupabaseStandInExtension(extension.name)) continue;
      const vector =
        extension.name === 'vector' ? ' For pgvector, install @electric-sql/pglite-pgvector (npm install -D @electric-sql/pglite-pgvector) and it is loaded when needed;' : '';
      const standIns = supabase
        ? ` (database.platform: supabase adds stand-ins only for ${SUPABASE_STAND_IN_EXTENSIONS.map((e) => e.name).join(', ')})`
        : '';
      const platformHint = !supabase && isSupabaseStandInExtension(extension.name)
        ? ` If this is a Supabase history, set database.platform: supabase in ${envFile} instead: the embedded database then has a stand-in for ${extension.name} and the other objects a Supabase project provides (docs/migrations.md).`
        : '';
      problems.push({
        file: file.path,
        ...lineColumnAt(file.sql, extension.offset),
        severity: 'error',
        message:
          `Extension "${extension.name}" is not available on the embedded database (PGlite), so this migration cannot run there.${vector} ` +
          `The environment needs a Postgres server that has it: in ${envFile}, set database: { url_env: NAME } and export NAME=postgres://… ` +
          `(PGlite provides ${pgliteExtensionNames().join(', ')}${standIns}).${platformHint}`,
      });
    }
  }
  return problems;
}
