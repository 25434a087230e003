/**
 * Discovering migration files. Two layouts, mixable:
 *   migrations/<version>_<name>.sql               (plain, dbmate/Supabase style)
 *   migrations/V<version>__<name>.sql             (Flyway style: a plain file of that version)
 *   migrations/<version>_<name>/migration.sql     (Prisma style)
 *
 * Identity and order follow the tool each layout comes from:
 * - a plain file is its **version** (digits, compared as a number: 0001 and 1 are the same
 *   version), as in dbmate's and Supabase's history tables; two plain files with one version
 *   are refused (planner.ts says which one to rename);
 * - a Prisma folder is its **folder name**, as in `_prisma_migrations.migration_name`: two
 *   folders may share a timestamp (`20240304123642_traces_view` and
 *   `20240304123642_traces_view_improvement`) and both run.
 * A folder of Prisma migrations only runs in Prisma's order, by folder name (the Prisma CLI
 * sorts with JavaScript's localeCompare, see PRISMA_ORDER); any other folder runs by version,
 * ties by name.
 */
import { existsSync, readFileSync, readlinkSync, statSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Problem } from '../problems.ts';
import { checksumSql } from './checksum.ts';
import { sectionsOf } from './sections.ts';
import { runnableFromPsqlScript } from './psql-script.ts';

export type MigrationLayout = 'file' | 'folder';

export interface MigrationFile {
  /** The migration's identity in the history: the version's digits without leading zeros (plain file) or the folder name (Prisma folder). */
  id: string;
  version: bigint;
  /** The version as written in the file or folder name (leading zeros kept). */
  versionText: string;
  name: string;
  layout: MigrationLayout;
  /** Repository-relative path with forward slashes, for messages. */
  path: string;
  /** Absolute path, for tools that read the file (squawk). */
  absolutePath: string;
  /**
   * What rollout runs: the file, with a dbmate or node-pg-migrate down section blanked
   * (sections.ts), inline COPY data as INSERTs and pg_dump's `\restrict` lines blanked
   * (psql-script.ts), every line where the file has it.
   */
  sql: string;
  /** Of the file as written. */
  checksum: string;
  /** Lines that never run (a down section), 1-based inclusive ranges; empty for a plain file. */
  notRun?: [number, number][];
}

/** How the files of a folder are ordered: Prisma's (folder name) for a folder of Prisma migrations only, else by version. */
export type MigrationOrdering = 'prisma' | 'version';

const FILE_PATTERN = /^(\d+)_([^/]+)\.sql$/;
const DIR_PATTERN = /^(\d+)_([^/]+)$/;
/** node-pg-migrate's (or knex's) JavaScript and TypeScript migrations: 1700000000000_create-users.js. */
const SCRIPT_PATTERN = /^\d+_.+\.(?:js|cjs|mjs|ts|cts|mts)$/;
/** golang-migrate's pairs: 000001_create_users.up.sql and 000001_create_users.down.sql. */
const UP_DOWN_PATTERN = /^(\d+)_([^/]+)\.(up|down)\.sql$/;
/** Flyway's versioned (V), undo (U) and repeatable (R) migrations: V1__init.sql, V1.1__fix.sql, R__views.sql. */
const FLYWAY_PATTERN = /^([VUR])([0-9._]*)__(.+)\.sql$/;
/** Versions are stored as bigint: 18 digits always fit. */
const MAX_VERSION_DIGITS = 18;
const MAX_VERSION = 10n ** BigInt(MAX_VERSION_DIGITS);

/**
 * The Prisma CLI lists migration folders with `a.path.localeCompare(b.path)` (@prisma/migrate
 * listMigrations) and the schema engine applies them in that order. Node's default locale is
 * en-US whatever LANG says, so this collator gives the same order on every machine.
 */
const PRISMA_ORDER = new Intl.Collator('en-US');

export interface MigrationFiles {
  /** Every migration found, in the order they run (plain files with a duplicated version included: see resolveDuplicates). */
  files: MigrationFile[];
  ordering: MigrationOrdering;
  problems: Problem[];
}

/** Something that has a place in the order: a file, or a history row. */
export interface Ordered {
  id: string;
  version: bigint;
}

export function compareMigrations(a: Ordered, b: Ordered, ordering: MigrationOrdering): number {
  if (ordering === 'prisma') return PRISMA_ORDER.compare(a.id, b.id);
  return a.version < b.version ? -1 : a.version > b.version ? 1 : PRISMA_ORDER.compare(a.id, b.id);
}

/** Read and order the migrations of `directory` (repository-relative); a missing folder has none. */
export async function readMigrationFiles(root: string, directory: string): Promise<MigrationFiles> {
  const absoluteDir = join(root, directory);
  const relDir = directory.split(/[\\/]/).filter(Boolean).join('/');
  let entries;
  try {
    entries = await readdir(absoluteDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], ordering: 'version', problems: [] };
    throw error;
  }
  const problems: Problem[] = [];
  const kinds = new Map(entries.map((entry) => [entry.name, kindOf(entry, absoluteDir)]));
  if (kinds.get(PRISMA_LOCK) === 'file') problems.push(...prismaProviderProblems(join(absoluteDir, PRISMA_LOCK), posix.join(relDir, PRISMA_LOCK)));
  const found: { version: string; name: string; layout: MigrationLayout; entry: string; relPath: string; absPath: string }[] = [];
  const downFiles: string[] = [];
  const scriptFiles: string[] = [];
  for (const entry of entries) {
    const kind = kinds.get(entry.name);
    if (kind === 'broken' && entry.name.endsWith('.sql')) {
      const relPath = posix.join(relDir, entry.name);
      problems.push(namingProblem(relPath, `${relPath} is a symbolic link to ${readlinkSync(join(absoluteDir, entry.name))}, which does not exist. Restore the file it points to, or remove the link.`));
      continue;
    }
    if (kind === 'file' && SCRIPT_PATTERN.test(entry.name)) {
      scriptFiles.push(posix.join(relDir, entry.name));
      continue;
    }
    if (kind === 'file' && entry.name.endsWith('.sql')) {
      const relPath = posix.join(relDir, entry.name);
      const flyway = FLYWAY_PATTERN.exec(entry.name);
      if (flyway) {
        const named = flywayFile(flyway, relPath);
        if ('problem' in named) problems.push(named.problem);
        else if (named.version !== undefined) found.push({ version: named.version, name: named.name, layout: 'file', entry: entry.name, relPath, absPath: join(absoluteDir, entry.name) });
        continue;
      }
      const pair = UP_DOWN_PATTERN.exec(entry.name);
      if (pair) {
        // golang-migrate's pair: the up file is the migration, the down file is never run.
        if (pair[3] === 'down') downFiles.push(relPath);
        else found.push({ version: pair[1], name: pair[2], layout: 'file', entry: entry.name, relPath, absPath: join(absoluteDir, entry.name) });
        continue;
      }
      const match = FILE_PATTERN.exec(entry.name);
      if (!match) {
        problems.push(namingProblem(relPath, `Migration file name '${entry.name}' is not <version>_<name>.sql. Expected digits, an underscore and a name, e.g. 20261125120000_create_flags.sql.`));
        continue;
      }
      found.push({ version: match[1], name: match[2], layout: 'file', entry: entry.name, relPath, absPath: join(absoluteDir, entry.name) });
    } else if (kind === 'directory') {
      const match = DIR_PATTERN.exec(entry.name);
      const relPath = posix.join(relDir, entry.name, 'migration.sql');
      if (!match) {
        // Not a migration folder (Supabase's seed data, a README folder) unless it holds a migration.sql, which Prisma would run.
        if (hasMigrationSql(join(absoluteDir, entry.name))) {
          problems.push(namingProblem(relPath, `Migration folder name '${entry.name}' is not <version>_<name>. Expected digits, an underscore and a name, e.g. 20240101093000_init (Prisma's own names have this form): rename the folder.`));
        }
        continue;
      }
      found.push({ version: match[1], name: match[2], layout: 'folder', entry: entry.name, relPath, absPath: join(absoluteDir, entry.name, 'migration.sql') });
    }
  }
  if (downFiles.length > 0) problems.push(downFilesWarning(downFiles.sort(PRISMA_ORDER.compare)));
  if (scriptFiles.length > 0) problems.push(scriptFilesError(scriptFiles.sort(PRISMA_ORDER.compare)));
  // Read every file first. Synchronously, on purpose: for a history of 1,000 small files
  // this is 2–5× faster than readFile() through the thread pool (and 10–20× faster than one
  // await per file in series), and nothing else waits on the event loop meanwhile.
  const texts = found.map((item) => {
    try {
      return readFileSync(item.absPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // A Prisma folder without migration.sql.
      throw error;
    }
  });
  const files: MigrationFile[] = [];
  for (const [index, item] of found.entries()) {
    if (item.version.replace(/^0+(?=\d)/, '').length > MAX_VERSION_DIGITS || BigInt(item.version) >= MAX_VERSION) {
      problems.push(namingProblem(item.relPath, `Migration version ${item.version} is too large. Expected at most ${MAX_VERSION_DIGITS} digits.`));
      continue;
    }
    const text = texts[index];
    if (text === undefined) continue;
    const sections = sectionsOf(text);
    // What psql would read: COPY … FROM stdin data as INSERTs, line for line; \restrict lines blanked (psql-script.ts).
    const runnable = runnableFromPsqlScript(item.relPath, sections.runnable);
    problems.push(...runnable.problems);
    const notRun = [...sections.notRun, ...runnable.notSql];
    const version = BigInt(item.version);
    files.push({
      id: item.layout === 'folder' ? item.entry : version.toString(),
      version,
      versionText: item.version,
      name: item.name,
      layout: item.layout,
      path: item.relPath,
      absolutePath: item.absPath,
      sql: runnable.sql,
      checksum: checksumSql(text),
      notRun,
    });
  }
  const ordering: MigrationOrdering = files.length > 0 && files.every((f) => f.layout === 'folder') ? 'prisma' : 'version';
  files.sort((a, b) => compareMigrations(a, b, ordering) || PRISMA_ORDER.compare(a.path, b.path));
  if (ordering === 'version') problems.push(...widthOrderProblems(files));
  return { files, ordering, problems };
}

/**
 * Timestamp versions of different widths (20240526_x.sql beside 20240718223009_y.sql) order differently
 * as numbers, which rollout uses, and as names, which dbmate and Supabase's CLI use: the tool
 * that migrated production ran them in another order than rollout would. Said once per file
 * that runs earlier than its name sorts, at that file.
 */
function widthOrderProblems(files: readonly MigrationFile[]): Problem[] {
  // Timestamps only (a date has 8 digits at least): 9_x.sql before 10_y.sql is a number sequence by intent.
  const plain = files.filter((f) => f.layout === 'file' && f.versionText.length >= 8);
  if (new Set(plain.map((f) => f.versionText.length)).size < 2) return [];
  const basename = (f: MigrationFile): string => f.path.slice(f.path.lastIndexOf('/') + 1);
  const overtaken = new Map<MigrationFile, MigrationFile[]>();
  let highest: MigrationFile | undefined;
  for (const file of plain) {
    if (highest && basename(file) < basename(highest)) overtaken.set(highest, [...(overtaken.get(highest) ?? []), file]);
    else highest = file;
  }
  return [...overtaken].map(([early, later]) => {
    const width = (f: MigrationFile): string => `${f.versionText.length} digits`;
    const names = later.slice(0, 3).map(basename).join(', ') + (later.length > 3 ? ` and ${later.length - 3} more` : '');
    return {
      file: early.path,
      line: 1,
      column: 1,
      severity: 'warning' as const,
      message:
        `${early.path} (version ${early.versionText}, ${width(early)}) runs before ${names} (${width(later[0])}): rollout orders files by version as a number, ` +
        `but dbmate and Supabase's CLI order them by name, which puts it after. Give every version one width before it is applied anywhere ` +
        `(e.g. ${early.versionText.padEnd(later[0].versionText.length, '0')}_${early.name}.sql), or check that this order is the one you mean.`,
    };
  });
}

const hasMigrationSql = (dir: string): boolean => existsSync(join(dir, 'migration.sql'));

/**
 * What an entry is, a symbolic link by what it points to: dbmate, Supabase's CLI and Prisma
 * read a linked file (a history that links a shared file into supabase/migrations) as the
 * file itself, so it must not be skipped. 'broken': a link to nothing.
 */
function kindOf(entry: Dirent, dir: string): 'file' | 'directory' | 'broken' | 'other' {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (!entry.isSymbolicLink()) return 'other';
  try {
    const target = statSync(join(dir, entry.name));
    return target.isFile() ? 'file' : target.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'broken';
  }
}

/** The file Prisma writes beside its migration folders, naming the database its SQL was generated for. */
const PRISMA_LOCK = 'migration_lock.toml';

/**
 * A Prisma history generated for another database (`provider = "mysql"` in
 * migration_lock.toml) holds that database's SQL: refused at the provider's line, before a
 * syntax error in the first file says less. CockroachDB speaks Postgres's protocol but not all
 * of its SQL: a warning.
 */
function prismaProviderProblems(path: string, relPath: string): Problem[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const index = lines.findIndex((line) => /^\s*provider\s*=/.test(line));
  const provider = index === -1 ? undefined : /=\s*"([^"]*)"/.exec(lines[index] ?? '')?.[1];
  if (provider === undefined || provider === 'postgresql' || provider === 'postgres') return [];
  const at = { file: relPath, line: index + 1, column: (lines[index]?.indexOf('provider') ?? 0) + 1 };
  if (provider === 'cockroachdb') {
    return [{ ...at, severity: 'warning', message: `${relPath} says this Prisma history was generated for CockroachDB: rollout runs it on Postgres, whose SQL differs in places. Check the plan and a first apply on a copy.` }];
  }
  return [{ ...at, severity: 'error', message: `${relPath} says this Prisma history was generated for ${provider}, so its SQL is ${provider}'s: rollout runs migrations on Postgres. Point migrations.directory at a history generated with provider = "postgresql".` }];
}

const namingProblem = (file: string, message: string): Problem => ({ file, line: 1, column: 1, severity: 'error', message });

/**
 * A Flyway file name. V<digits>__<name> is a plain migration of that version (what Flyway's
 * history stores, so `migrate adopt --from flyway` matches it). Undo files (U) are down
 * migrations: never run, said as a warning. Dotted versions and repeatable files (R) have no
 * equivalent here yet: refused with the way out rather than run in a different order.
 */
function flywayFile(match: RegExpExecArray, relPath: string): { version?: string; name: string } | { problem: Problem } {
  const [, prefix, version, name] = match as unknown as [string, 'V' | 'U' | 'R', string, string];
  if (prefix === 'U') return { problem: { ...namingProblem(relPath, `${relPath} is a Flyway undo migration: rollout has no down migrations and never runs it (undo a change with a new migration).`), severity: 'warning' } };
  if (prefix === 'R') {
    return { problem: namingProblem(relPath, `${relPath} is a Flyway repeatable migration (R__): rollout does not re-run a file when it changes. Put what it creates in a versioned migration (V<version>__${name}.sql with CREATE OR REPLACE), and a new one for each change.`) };
  }
  if (!/^\d+$/.test(version)) {
    return { problem: namingProblem(relPath, `Flyway version '${version}' in ${relPath}: rollout orders migrations by a whole-number version, so dotted versions are not supported. Rename the file with a whole number that keeps the order (e.g. V${version.replace(/[._]/g, '')}__${name}.sql) before rollout applies it.`) };
  }
  return { version, name };
}

/**
 * One warning for every down file of a golang-migrate history (one per file would bury the
 * plan of a long history): rollout has no down migrations, so they are listed and never run.
 */
function downFilesWarning(paths: readonly string[]): Problem {
  const others = paths.length - 1;
  const also = others > 0 ? ` and ${others} other .down.sql file${others === 1 ? '' : 's'} (${paths.slice(1, 4).join(', ')}${others > 3 ? ', …' : ''}) are` : ' is';
  return {
    ...namingProblem(paths[0], `${paths[0]}${also} down migrations (golang-migrate's <version>_<name>.down.sql): rollout runs each <version>_<name>.up.sql as the migration of that version and never runs a down file (undo a change with a new migration).`),
    severity: 'warning',
  };
}

/**
 * JavaScript or TypeScript migrations (node-pg-migrate's default) are code rollout cannot run.
 * Running only the SQL files among them would apply the history out of step, so it is an error,
 * said once for the whole directory.
 */
function scriptFilesError(paths: readonly string[]): Problem {
  const others = paths.length - 1;
  const also = others > 0 ? ` and ${others} other script migration${others === 1 ? '' : 's'} (${paths.slice(1, 4).join(', ')}${others > 3 ? ', …' : ''}) are` : ' is';
  return namingProblem(
    paths[0],
    `${paths[0]}${also} JavaScript/TypeScript migrations (node-pg-migrate style): rollout runs SQL files only, and running the SQL files around them would apply the history out of step. ` +
      'Rewrite each as a SQL migration of the same version (<version>_<name>.sql with the statements it runs), or keep the script history out of migrations.directory and start a new directory of SQL migrations.',
  );
}
