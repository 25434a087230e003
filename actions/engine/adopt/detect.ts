/** What an existing repository already has that rollout should use rather than recreate. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { UsageError } from '../errors.ts';

/** Where other tools keep migrations (the last two: Flyway's defaults), in the order they are looked for. */
export const MIGRATION_FOLDERS = ['prisma/migrations', 'supabase/migrations', 'db/migrations', 'database/migrations', 'migrations', 'db/migration', 'src/main/resources/db/migration'] as const;

/**
 * database/migrations is dbmate's or golang-migrate's as often as Laravel's (PHP files, not a
 * SQL history): it counts only when it holds a .sql file.
 */
const SQL_ONLY: ReadonlySet<string> = new Set(['database/migrations']);

/**
 * Below the root, only a tool's own folder counts: a bare migrations/ deeper down is as often
 * some library's or test's as the application's.
 */
const NESTED_FOLDERS = MIGRATION_FOLDERS.filter((dir) => dir !== 'migrations');
/**
 * How many folders may sit between the root and a tool's folder: packages/prisma/migrations is 1,
 * apps/web/prisma/migrations 2; a Prisma folder known by its lock file may be one level deeper
 * (packages/db/schema-migrations).
 */
const NESTED_DEPTH = 2;
/** Prisma writes this file into its migrations folder whatever the folder is called. */
const PRISMA_LOCK = 'migration_lock.toml';
/** Folders that hold other people's code or build output, never the application's history. */
const SKIPPED = new Set(['node_modules', 'dist', 'build', 'out', 'target', 'vendor', 'coverage']);

/**
 * The repository's migrations folder: the first of the well-known folders at the root that
 * holds something; otherwise the one tool folder (or Prisma folder, by its migration_lock.toml)
 * a monorepo keeps in a package, e.g. packages/prisma/migrations. Several candidates and no
 * root folder: a UsageError that lists them, since guessing would plan the wrong history.
 */
export function detectMigrationsFolder(root: string): string | undefined {
  const atRoot = MIGRATION_FOLDERS.find((dir) => holds(join(root, dir), dir));
  if (atRoot) return atRoot;
  const nested = nestedMigrationFolders(root);
  if (nested.length > 1) {
    throw new UsageError(
      `Found several migration folders: ${nested.join(', ')}. Say which one the environments read, e.g. rollout init --migrations ${nested[0]}`,
    );
  }
  return nested[0];
}

/** Tool migration folders below the root (repository-relative, with /), in path order. */
function nestedMigrationFolders(root: string): string[] {
  const found = new Set<string>();
  const visit = (relative: string, depth: number): void => {
    for (const name of subfolders(join(root, relative))) {
      const path = relative === '' ? name : posix.join(relative, name);
      if (existsSync(join(root, path, PRISMA_LOCK))) found.add(path);
      if (depth > NESTED_DEPTH) continue;
      for (const tool of NESTED_FOLDERS) {
        if (holds(join(root, path, tool), tool)) found.add(posix.join(path, tool));
      }
      visit(path, depth + 1);
    }
  };
  visit('', 1);
  // A folder found both ways (packages/db/prisma/migrations has the lock file too) is one folder; a tool folder inside another is not a second one.
  const all = [...found].sort();
  return all.filter((path) => !all.some((other) => other !== path && path.startsWith(`${other}/`)));
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !SKIPPED.has(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch {
    // A folder we may not read is not one of ours to adopt.
    return [];
  }
}

function holds(path: string, tool: string): boolean {
  if (!holdsFiles(path)) return false;
  return !SQL_ONLY.has(tool) || readdirSync(path).some((name) => name.endsWith('.sql'));
}

function holdsFiles(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && readdirSync(path).length > 0;
}
