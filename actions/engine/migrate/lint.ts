/**
 * Lint pending migrations with squawk (a maintained Postgres migration linter built on
 * a real parser). A file acknowledges a finding with squawk's own comment:
 *   -- squawk-ignore adding-required-field
 *
 * squawk is a native binary. The CLI finds it in node_modules (squawk-cli and its platform
 * package); the bundled GitHub Actions run without node_modules, so the build ships the
 * linux-x64 binary next to the bundle (dist/actions/chunks/squawk/linux-x64/squawk), which is
 * what GitHub's hosted runners are. Where neither exists, lint reports that it did not run.
 */
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Problem } from '../problems.ts';
import type { PreparedMigration } from './execute.ts';
import { lineColumnAt } from './position.ts';
import { runsLine } from './sections.ts';
import { loadParser, parseSql, rawParser, type Statement } from './statements.ts';

export interface LintFinding extends Problem {
  rule: string;
  /** squawk's own advice on how to fix it. */
  help?: string;
  /**
   * Why this finding blocks no one, when it does not: the statement works on a table that a
   * migration of the same pending set creates, so nothing reads or writes it yet.
   */
  lowRisk?: string;
}

/** The rule of the single finding lintMigrations returns when squawk cannot run here. */
export const LINT_UNAVAILABLE = 'lint-unavailable';

/** We always SET both timeouts on migration sessions, so squawk's reminders to do so are noise. */
const EXCLUDED_RULES = ['require-lock-timeout', 'require-statement-timeout'];

/** Rules whose finding means an outage risk (long locks, table rewrites, lost data): shown as errors. */
const DANGEROUS_RULES = new Set([
  'adding-required-field',
  'adding-not-nullable-field',
  'adding-field-with-default',
  'adding-foreign-key-constraint',
  'adding-primary-key-constraint',
  'adding-serial-primary-key-field',
  'ban-drop-column',
  'ban-drop-table',
  'ban-drop-database',
  'ban-drop-not-null',
  'ban-truncate-cascade',
  'changing-column-type',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'renaming-column',
  'renaming-table',
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
]);

interface SquawkFinding {
  file: string;
  line: number;
  column: number;
  level: string;
  message: string;
  help: string | null;
  rule_name: string;
}

export interface LintOptions {
  /**
   * Every relation the live database has (schema.name), when the caller read them: a CREATE
   * TABLE IF NOT EXISTS of a table not among them creates it, so what follows on that table is
   * low risk too (pg_dump and `supabase db diff` write every table so).
   */
  liveRelations?: ReadonlySet<string>;
}

export async function lintMigrations(migrations: readonly PreparedMigration[], processEnv: NodeJS.ProcessEnv, options: LintOptions = {}): Promise<LintFinding[]> {
  if (migrations.length === 0) return [];
  const binary = findSquawk(processEnv);
  if ('unavailable' in binary) {
    const first = migrations[0];
    return [{ file: first.file.path, line: 1, column: 1, severity: 'warning', rule: LINT_UNAVAILABLE, message: `migration lint did not run: ${binary.unavailable}` }];
  }
  const linted = await lintedPaths(migrations);
  try {
    const runs = await Promise.all([runSquawk(binary.path, linted.inTransaction, true), runSquawk(binary.path, linted.outside, false)]);
    // Whether a risky finding is low risk depends on the tables the pending files create, which
    // takes the parser: load it only for such a finding, so that a plan whose files the pre-scan
    // classified never compiles its WebAssembly. If it cannot load, no finding is called low risk.
    if (runs.some((run) => run.some((f) => DANGEROUS_RULES.has(f.rule_name)))) await loadParser().catch(() => undefined);
    return findingsOf(migrations, linted.paths, runs, options.liveRelations);
  } finally {
    await linted.cleanup();
  }
}

/**
 * The path squawk reads for each migration: the file itself, or, for a file whose runnable
 * text differs from what is written (a down section, COPY data, a psql meta-command: see
 * files.ts), a copy of that text, line for line the same, so that squawk parses the SQL that
 * runs instead of stopping at the first line that is not SQL.
 */
async function lintedPaths(migrations: readonly PreparedMigration[]) {
  const rewritten = migrations.filter((m) => (m.file.notRun?.length ?? 0) > 0);
  const dir = rewritten.length > 0 ? await mkdtemp(join(tmpdir(), 'rollout-lint-')) : undefined;
  const paths = new Map<PreparedMigration, string>();
  for (const [index, m] of migrations.entries()) {
    if (dir && rewritten.includes(m)) {
      const copy = join(dir, `${index}-${basename(m.file.absolutePath)}`);
      await writeFile(copy, m.file.sql);
      paths.set(m, copy);
    } else {
      paths.set(m, m.file.absolutePath);
    }
  }
  // Squawk judges robustness differently inside a transaction: lint each group with the right assumption.
  const pathsOf = (inTransaction: boolean): string[] => migrations.filter((m) => (m.execution === 'transaction') === inTransaction).map((m) => paths.get(m) as string);
  return {
    paths,
    inTransaction: pathsOf(true),
    outside: pathsOf(false),
    cleanup: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function findingsOf(
  migrations: readonly PreparedMigration[],
  paths: Map<PreparedMigration, string>,
  squawkRuns: SquawkFinding[][],
  liveRelations: ReadonlySet<string> | undefined,
): LintFinding[] {
  const byPath = new Map(migrations.map((m) => [paths.get(m) as string, m]));
  const found = squawkRuns.flat();
  const created = new NewTables(migrations, liveRelations);
  // What squawk finds on lines that never run (a down section, blanked in the copy it read) is not news.
  const runs = (f: SquawkFinding): boolean => { const m = byPath.get(f.file); return !m || runsLine(m.file.notRun, f.line + 1); };
  return found.filter(runs).map((f) => {
    const migration = byPath.get(f.file);
    const line = f.line + 1;
    const column = f.column + 1;
    // Low risk is about locks and rewrites: a style rule (prefer-bigint-over-int) holds on a new table too.
    const dangerous = DANGEROUS_RULES.has(f.rule_name);
    const lowRisk = migration && dangerous ? created.lowRiskReason(migration, line, column) : undefined;
    return {
      file: migration?.file.path ?? f.file,
      line,
      column,
      severity: dangerous && !lowRisk ? 'error' : 'warning',
      message: f.message,
      rule: f.rule_name,
      ...(f.help ? { help: f.help } : {}),
      ...(lowRisk ? { lowRisk } : {}),
    };
  });
}

/** One line per file and rule: "require-concurrent-index-creation at lines 3, 5, 9". */
export interface LintGroup {
  file: string;
  rule: string;
  severity: 'error' | 'warning';
  message: string;
  help?: string;
  /** Every line the rule fired on, ascending. */
  lines: number[];
  /** Set when every finding of the group is low risk (the table is new in this pending set). */
  lowRisk?: string;
}

/** What grouping needs of a finding: the plan's copies carry no file (they sit under their migration). */
export interface GroupableFinding {
  file?: string;
  rule: string;
  severity: string;
  message: string;
  help?: string;
  line?: number;
  lowRisk?: string;
}

/**
 * Group findings per file and rule (one line instead of six identical ones), in file order,
 * then by first line. Low-risk findings of a rule are kept apart from its risky ones.
 */
export function groupLintFindings(findings: readonly GroupableFinding[], file = ''): LintGroup[] {
  const groups = new Map<string, LintGroup>();
  for (const f of findings) {
    const at = f.file ?? file;
    const key = `${at}\u0000${f.rule}\u0000${f.lowRisk ? 'low' : 'risky'}`;
    let group = groups.get(key);
    if (!group) {
      group = { file: at, rule: f.rule, severity: 'warning', message: f.message, lines: [], ...(f.help ? { help: f.help } : {}), ...(f.lowRisk ? { lowRisk: f.lowRisk } : {}) };
      groups.set(key, group);
    }
    if (f.severity === 'error') group.severity = 'error';
    if (f.line !== undefined && !group.lines.includes(f.line)) group.lines.push(f.line);
  }
  return [...groups.values()]
    .map((group) => ({ ...group, lines: group.lines.sort((a, b) => a - b) }))
    .sort((a, b) => a.file.localeCompare(b.file) || (a.lines[0] ?? 0) - (b.lines[0] ?? 0) || a.rule.localeCompare(b.rule));
}

/** "line 4" or "lines 3, 5, 9". */
export function describeLines(lines: readonly number[]): string {
  if (lines.length === 0) return 'the file';
  return lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.join(', ')}`;
}

// ---------------------------------------------------------------- tables new in this pending set

type Relation = { schemaname?: string; relname?: string };

const qualified = (r: Relation | undefined): string | undefined => (r?.relname ? `${r.schemaname ?? 'public'}.${r.relname}` : undefined);

/**
 * Tables that a pending migration creates, and where: a later statement on such a table locks
 * nothing anyone uses. CREATE TABLE IF NOT EXISTS may find one already there: it counts only
 * when the live database is known not to have a relation of that name.
 */
class NewTables {
  /** qualified name → the file and character offset of its CREATE TABLE. */
  private readonly created = new Map<string, { file: string; order: number; offset: number }>();
  private readonly order = new Map<PreparedMigration, number>();
  private readonly statements = new Map<PreparedMigration, readonly Statement[] | undefined>();
  /**
   * Index (qualified: an index lives in its table's schema) → its table, for the indexes the
   * pending set creates: DROP INDEX names only the index, and Prisma drops and recreates
   * unique indexes of tables it made a few migrations before.
   */
  private readonly indexes = new Map<string, string>();

  constructor(migrations: readonly PreparedMigration[], liveRelations?: ReadonlySet<string>) {
    migrations.forEach((migration, order) => {
      this.order.set(migration, order);
      this.statements.set(migration, statementsOf(migration));
      for (const statement of this.statements.get(migration) ?? []) {
        const stmt = parseOne(statement.sql);
        const node = stmt?.CreateStmt as { relation?: Relation; if_not_exists?: boolean } | undefined;
        const name = qualified(node?.relation);
        const creates = name !== undefined && (!node?.if_not_exists || (liveRelations !== undefined && !liveRelations.has(name)));
        if (name && creates && !this.created.has(name)) this.created.set(name, { file: migration.file.path, order, offset: statement.start });
        const index = stmt?.IndexStmt as { idxname?: string; relation?: Relation } | undefined;
        const table = qualified(index?.relation);
        if (index?.idxname && table) this.indexes.set(`${index.relation?.schemaname ?? 'public'}.${index.idxname}`, table);
      }
    });
  }

  /** Why the statement at line:column of `migration` is low risk, if it is. */
  lowRiskReason(migration: PreparedMigration, line: number, column: number): string | undefined {
    const statements = this.statements.get(migration);
    if (this.created.size === 0 || !statements) return undefined;
    const offset = offsetOf(migration.file.sql, line, column);
    const statement = statements.find((s) => offset >= s.start && offset < s.start + s.sql.length);
    if (!statement) return undefined;
    const order = this.order.get(migration)!;
    const targets = targetsOf(statement.sql, (index) => this.indexes.get(index));
    const creations = targets.map((table) => ({ table, creation: this.created.get(table) }));
    const earlier = (c: { order: number; offset: number } | undefined): boolean => c !== undefined && (c.order < order || (c.order === order && c.offset <= statement.start));
    // Every table the statement locks must be new (DROP TABLE new_one, old_one still locks old_one).
    if (creations.length === 0 || !creations.every((c) => earlier(c.creation))) return undefined;
    const [{ table, creation }] = creations;
    return `${table} is created by ${creation!.file} in this same set of pending migrations, so nothing reads or writes it yet`;
  }
}

/**
 * The tables a statement works on (the one it alters, indexes, renames, drops or creates);
 * for DROP INDEX, the tables of the dropped indexes that `tableOfIndex` knows.
 */
function targetsOf(sql: string, tableOfIndex: (qualifiedIndex: string) => string | undefined): string[] {
  const stmt = parseOne(sql);
  if (!stmt) return [];
  const [type, node] = Object.entries(stmt)[0] ?? ['', {}];
  const relation = qualified((node as { relation?: Relation }).relation);
  if (type === 'DropStmt') {
    const drop = node as { removeType?: string; objects?: { List?: { items?: { String?: { sval?: string } }[] } }[] };
    const names = (drop.objects ?? []).map((o) => (o.List?.items ?? []).map((i) => i.String?.sval ?? '')).map((parts) => (parts.length === 1 ? `public.${parts[0]}` : parts.join('.')));
    if (drop.removeType === 'OBJECT_TABLE') return names;
    // Low risk only when every index dropped is on a new table: one unknown index may lock a table in use.
    if (drop.removeType === 'OBJECT_INDEX') {
      const tables = names.map(tableOfIndex);
      return tables.every((t) => t !== undefined) ? tables : [];
    }
    return [];
  }
  return relation ? [relation] : [];
}

/** A file's statements: as prepared, or, for a file the pre-scan classified, from the parser when it is loaded. */
function statementsOf(migration: PreparedMigration): readonly Statement[] | undefined {
  if (migration.statements) return migration.statements;
  try {
    // The server version only decides how a file runs, not where its statements are.
    return parseSql(migration.file.path, migration.file.sql, Number.MAX_SAFE_INTEGER).parsed?.statements;
  } catch {
    return undefined; // The parser is not loaded: no finding here was risky.
  }
}

function parseOne(sql: string): Record<string, unknown> | undefined {
  try {
    const parsed = rawParser()(sql) as { stmts?: { stmt: Record<string, unknown> }[] };
    return parsed.stmts?.[0]?.stmt;
  } catch {
    // The parser is not loaded (files the pre-scan classified) or the text does not parse: no claim of low risk.
    return undefined;
  }
}

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) break;
    offset = next + 1;
  }
  const at = offset + column - 1;
  // Sanity: the same position back (columns past the end of a line clamp to it).
  return lineColumnAt(text, at).line === line ? at : offset;
}

// ---------------------------------------------------------------- running squawk

async function runSquawk(binary: string, paths: string[], assumeInTransaction: boolean): Promise<SquawkFinding[]> {
  if (paths.length === 0) return [];
  const args = ['--reporter', 'json', `--exclude=${EXCLUDED_RULES.join(',')}`, ...(assumeInTransaction ? ['--assume-in-transaction'] : []), ...paths];
  const stdout = await new Promise<string>((resolve, reject) => {
    // Exit code 1 means "found something": the JSON on stdout is still the answer.
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024 }, (error, out, stderr) => {
      if (error && out.trim() === '') reject(new Error(`squawk failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(out);
    });
  });
  return JSON.parse(stdout) as SquawkFinding[];
}

/** The platforms squawk-cli publishes a binary for. */
const PLATFORMS = new Set(['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64']);

/**
 * The squawk binary, without going through squawk-cli's Node launcher (a second Node start
 * per lint): ROLLOUT_SQUAWK if set, the copy shipped next to a bundle, or the platform package.
 */
export function findSquawk(env: NodeJS.ProcessEnv): { path: string } | { unavailable: string } {
  if (env.ROLLOUT_SQUAWK) return existsSync(env.ROLLOUT_SQUAWK) ? { path: env.ROLLOUT_SQUAWK } : { unavailable: `ROLLOUT_SQUAWK names ${env.ROLLOUT_SQUAWK}, which does not exist` };
  const platform = `${process.platform}-${process.arch}`;
  const exe = process.platform === 'win32' ? 'squawk.exe' : 'squawk';
  const here = dirname(fileURLToPath(import.meta.url));
  const shipped = join(here, 'squawk', platform, exe);
  if (existsSync(shipped)) {
    // An archive or copy may have dropped the executable bit; the file is ours to fix.
    try {
      accessSync(shipped, constants.X_OK);
    } catch {
      chmodSync(shipped, 0o755);
    }
    return { path: shipped };
  }
  if (!PLATFORMS.has(platform)) return { unavailable: `squawk has no build for ${platform}` };
  try {
    const require = createRequire(import.meta.url);
    const launcher = require.resolve('squawk-cli/package.json');
    return { path: createRequire(launcher).resolve(`@squawk-cli/${platform}/bin/${exe}`) };
  } catch {
    return { unavailable: `squawk is not installed here for ${platform} (npm install squawk-cli, or set ROLLOUT_SQUAWK to the binary)` };
  }
}
