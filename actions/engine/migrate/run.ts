/**
 * The migrator's edge: reads files and history, calls the pure planner, runs what it
 * decided. Every function takes an already-connected client, so `rollout apply` can run
 * migrations on the session that holds the environment lock, before its flag writes.
 */
import { resolve } from 'node:path';
import type pg from 'pg';
import type { Environment } from '../config/model.ts';
import { ValidationError } from '../errors.ts';
import { hasErrors, sortProblems, type Problem } from '../problems.ts';
import { readMigrationFiles, type MigrationFile, type MigrationFiles } from './files.ts';
import { ensureHistory, readHistory, readHistoryRows, toHistoryRecords, upsertRecordSql, type HistoryRecord } from './history.ts';
import { planMigrations, planBaseline, resolveDuplicates, type MigrationPlan } from './planner.ts';
import { classifyMigrations, parseClassified, type Classified } from './prepare.ts';
import { findReformatted } from './reformatted.ts';
import { executeMigrations, type AppliedMigration, type PreparedMigration, type ProgressEvent } from './execute.ts';
import { lintMigrations, type LintFinding } from './lint.ts';
import { checkSyntax } from './syntax-check.ts';
import { loadParser, parseSql } from './statements.ts';
import { currentActor, currentCommit } from './provenance.ts';
import { unavailableExtensionProblems } from './extensions.ts';
import { isMissingSupabaseObject, supabasePlatformHint } from '../db/platform-supabase.ts';

export interface MigrationContext {
  /** Repository root. */
  root: string;
  env: Environment;
  /** The variables the run was given (actor, git); passed in, never read from process.env here. */
  processEnv: NodeJS.ProcessEnv;
}

export interface MigrationStatus {
  plan: MigrationPlan;
  history: HistoryRecord[];
  /** File-naming problems and the planner's blockers/warnings, sorted. */
  problems: Problem[];
}

export interface MigrationPreview extends MigrationStatus {
  /** The files that would run, with how each runs (transaction, statements, script). */
  prepared: PreparedMigration[];
  lint: LintFinding[];
  /** Every file as read for this preview: an apply of its plan runs these texts (ApplyOptions.files). */
  files: MigrationFiles;
}

export interface ApplyReport {
  applied: AppliedMigration[];
  /** Path of the backup taken before the run, if the environment asks for one and anything was pending. */
  backup?: string;
  problems: Problem[];
}

export interface ApplyOptions {
  retryFailed?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** Takes the backup migrations.backup asks for; given by the caller that owns the Database. */
  backup?: (directory: string) => Promise<string>;
  /**
   * The files as the plan read them (MigrationPreview.files): what runs is then exactly what
   * the plan hash covers, and 1,000 files are not read and checksummed twice. Read here when absent.
   */
  files?: MigrationFiles;
}

/** Read-only: applied, pending, changed, missing and failed migrations. */
export async function inspectMigrations(
  client: pg.ClientBase,
  ctx: MigrationContext,
  options: { retryFailed?: boolean } = {},
  /** The files, when the caller has read them already (or is reading them). */
  read?: MigrationFiles | Promise<MigrationFiles>,
): Promise<MigrationStatus> {
  const settings = ctx.env.migrations;
  const [{ files, ordering, problems: fileProblems }, rows] = await Promise.all([read ?? readMigrationFiles(ctx.root, settings.directory), readHistoryRows(client)]);
  const history = toHistoryRecords(rows, files);
  const applied = new Map(history.filter((r) => r.status === 'applied').map((r) => [r.id, r]));
  const changed = files.flatMap((file) => {
    const record = applied.get(file.id);
    return record && record.checksum !== file.checksum ? [{ file, record }] : [];
  });
  const plan = planMigrations(files, history, {
    reformatted: await findReformatted(ctx.root, changed),
    ordering,
    allowMissing: settings.allowMissing,
    allowOutOfOrder: settings.allowOutOfOrder,
    retryFailed: options.retryFailed ?? false,
    environment: ctx.env.name,
    directory: settings.directory,
  });
  return { plan, history, problems: sortProblems([...fileProblems, ...plan.problems]) };
}

export interface PreviewOptions {
  retryFailed?: boolean;
  /**
   * What else runs on the client meanwhile (a plan reads live state beside the preview): the
   * syntax check waits for it, since its queries would fail in the check's aborted savepoint.
   */
  after?: Promise<unknown>;
}

/** Every relation outside the system schemas, as schema.name (what CREATE TABLE IF NOT EXISTS would find). */
async function liveRelations(client: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`,
  );
  return new Set(rows.map((r) => r.name));
}

/**
 * Read-only, inside a snapshot (readOnly): the status plus how each pending file would run and
 * squawk's findings on it. Every pending file is syntax-checked, so that a syntax error in
 * file 7 is reported on the pull request before anything is merged; as apply does, only the
 * files the pre-scan cannot classify go through libpg-query, and the server checks the others
 * in one round trip (under a savepoint), so that a plan of ordinary files never loads the
 * parser's WebAssembly (most of the plan action's start-up: bench/actions/plan-cold-start.mjs).
 */
export async function previewMigrations(client: pg.ClientBase, ctx: MigrationContext, options: PreviewOptions = {}): Promise<MigrationPreview> {
  // Read while the history is: inspectMigrations awaits both together.
  const reading = readMigrationFiles(ctx.root, ctx.env.migrations.directory);
  const status = await inspectMigrations(client, ctx, options, reading);
  const files = await reading;
  const version = await serverVersion(client);
  const { classified, problems: directiveProblems } = classifyMigrations(status.plan.toRun, version, { parse: 'needed' });
  const { prepared, problems: parseProblems } = await parseClassified(classified, version);
  // What CREATE TABLE IF NOT EXISTS would find: read only when there is something to lint.
  const lintOptions = { liveRelations: prepared.length > 0 ? await liveRelations(client) : undefined };
  // squawk runs while the server checks the syntax.
  const [linted, syntaxProblems] = await Promise.all([
    lintMigrations(prepared, ctx.processEnv, lintOptions),
    (async () => {
      await options.after;
      return checkUnparsedSyntax(client, unparsedFiles(classified), version, { keepTransaction: true });
    })(),
  ]);
  // A file with a syntax error is left out of the pending files, as the parser leaves it (prepare.ts):
  // lint again without it, so that nothing (low risk, "lint did not run") refers to it.
  const broken = new Set(syntaxProblems.filter((p) => p.severity === 'error').map((p) => p.file));
  const kept = broken.size > 0 ? prepared.filter((m) => !broken.has(m.file.path)) : prepared;
  const lint = kept === prepared ? linted : await lintMigrations(kept, ctx.processEnv, lintOptions);
  return { ...status, prepared: kept, lint, files, problems: sortProblems([...status.problems, ...directiveProblems, ...parseProblems, ...syntaxProblems, ...pendingFileProblems(ctx, kept)]) };
}

/** The files libpg-query does not read (the lexer's classification is no syntax check): the server checks them. */
const unparsedFiles = (classified: readonly Classified[]): MigrationFile[] => classified.filter((c) => !c.needsParser).map((c) => c.file);

/**
 * Apply pending migrations. The caller holds the environment lock (lockEnvironment) on
 * `client`. Throws ValidationError when something blocks the run (nothing runs then), and
 * MigrationError when a migration fails (earlier ones stay applied).
 * Session settings are RESET after each file, so that one file's SETs cannot leak into the next.
 */
export async function applyMigrations(client: pg.ClientBase, ctx: MigrationContext, options: ApplyOptions = {}): Promise<ApplyReport> {
  const processEnv = ctx.processEnv;
  // `git rev-parse` runs while the database answers.
  const commit = currentCommit(ctx.root, processEnv);
  const read = options.files ?? (await readMigrationFiles(ctx.root, ctx.env.migrations.directory));
  await ensureHistory(client, read.files);
  const [status, version] = await Promise.all([inspectMigrations(client, ctx, options, read), serverVersion(client)]);
  // Only files the pre-scan cannot classify go through the parser (see prepare.ts); plan parses them all.
  const { classified, problems: directiveProblems } = classifyMigrations(status.plan.toRun, version, { parse: 'needed' });
  // The others are syntax-checked by the server, all in one round trip, while the parser loads and runs here.
  const syntaxProblems = checkUnparsedSyntax(client, unparsedFiles(classified), version);
  const { prepared, problems: parseProblems } = await parseClassified(classified, version);
  const problems = sortProblems([...status.problems, ...directiveProblems, ...parseProblems, ...(await syntaxProblems), ...pendingFileProblems(ctx, prepared)]);
  if (hasErrors(problems)) throw new ValidationError(problems.filter((p) => p.severity === 'error'));
  if (prepared.length === 0) return { applied: [], problems };

  const settings = ctx.env.migrations;
  let backup: string | undefined;
  // The backup folder is written relative to the repository, like every path in the environment file.
  if (settings.backup && options.backup) backup = await options.backup(resolve(ctx.root, settings.backup.directory));

  const applied = await executeMigrations(client, prepared, {
    lockTimeoutMs: settings.lockTimeoutMs,
    statementTimeoutMs: settings.statementTimeoutMs,
    appliedBy: currentActor(processEnv),
    commit: await commit,
    environment: ctx.env.name,
    serverVersion: version,
    // The embedded database lives in this process: a killed process is a crashed server, and
    // PGlite has no WAL writer to flush asynchronous commits in the background. Flush each file.
    flush: ctx.env.database.kind === 'embedded' ? 'file' : settings.flush,
    advise: (error) => platformAdvice(error.message, ctx.env),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { applied, problems, ...(backup ? { backup } : {}) };
}

/**
 * Adopt an existing database: record every file up to `version` as applied without
 * running it (and refresh the checksum of applied files that were edited). Caller holds the lock.
 */
export async function baselineMigrations(client: pg.ClientBase, ctx: MigrationContext, version: bigint): Promise<MigrationFile[]> {
  const processEnv = ctx.processEnv;
  const read = await readMigrationFiles(ctx.root, ctx.env.migrations.directory);
  await ensureHistory(client, read.files);
  const history = await readHistory(client, read.files);
  const { files, problems } = resolveDuplicates(read.files, history);
  const blockers = [...read.problems, ...problems];
  if (hasErrors(blockers)) throw new ValidationError(sortProblems(blockers));
  const adopt = planBaseline(files, history, version);
  if (adopt.length === 0) return [];
  const appliedBy = currentActor(processEnv);
  const commit = await currentCommit(ctx.root, processEnv);
  // One statement for all rows: a baseline of 1,000 files is one round trip.
  const sql = adopt
    .map((file) => upsertRecordSql({ id: file.id, version: file.version, name: file.name, checksum: file.checksum, status: 'applied', execution: 'baseline', appliedBy, commit, durationSql: '0' }))
    .join(';\n');
  await client.query(`BEGIN;\n${sql};\nCOMMIT;`);
  return adopt;
}

/**
 * A Supabase history on a database without the platform's objects fails at its first
 * `auth.users` or `schema "extensions"`: say what fixes it (database.platform: supabase on
 * the embedded database), unless the environment already has the stand-ins.
 */
function platformAdvice(postgresMessage: string, env: Environment): string | undefined {
  const database = env.database;
  if (database.kind === 'fleet' || (database.kind === 'embedded' && database.platform === 'supabase')) return undefined;
  return isMissingSupabaseObject(postgresMessage) ? supabasePlatformHint(database.kind, env.file) : undefined;
}

async function checkUnparsedSyntax(client: pg.ClientBase, unparsed: readonly MigrationFile[], version: number, options: { keepTransaction?: boolean } = {}): Promise<Problem[]> {
  if (unparsed.length === 0) return [];
  const { problems, unchecked } = await checkSyntax(client, unparsed, options);
  if (unchecked.length > 0) {
    await loadParser();
    for (const file of unchecked) problems.push(...parseSql(file.path, file.sql, version).problems);
  }
  return problems;
}

/**
 * What blocks pending files beyond their syntax: on the embedded database, a CREATE EXTENSION
 * of an extension PGlite lacks. (A dbmate or node-pg-migrate down section is not a problem:
 * it never runs, see sections.ts.) Refused before anything runs.
 */
function pendingFileProblems(ctx: MigrationContext, prepared: readonly PreparedMigration[]): Problem[] {
  return unavailableExtensionProblems(
    ctx.env.database,
    ctx.env.file,
    prepared.map((m) => ({ path: m.file.path, sql: m.file.sql, extensions: m.extensions })),
  );
}

async function serverVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(rows[0]?.server_version_num ?? 0);
}
