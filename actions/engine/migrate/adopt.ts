/**
 * `migrate adopt`: take over a database another tool migrated. Reads that tool's history
 * table, checks each applied migration against its file (adopt-content.ts), plans (adopt-plan.ts)
 * and, with `write`, records the adopted files in rollout.schema_migrations with
 * execution = 'adopted' — all of them in one transaction, or none when anything does not
 * match. Nothing is run, and the other tool's table is left as it is.
 */
import type pg from 'pg';
import { hasErrors, sortProblems } from '../problems.ts';
import { readMigrationFiles } from './files.ts';
import { ensureHistory, readHistory, upsertRecordSql, literal } from './history.ts';
import { resolveDuplicates } from './planner.ts';
import { chooseForeignHistory, readForeignHistory, type AdoptSource } from './adopt-sources.ts';
import { compareContent, expectedObjects, missingObjects, type ContentVerdict } from './adopt-content.ts';
import { fileKey, planAdoption, type AdoptionPlan } from './adopt-plan.ts';
import { currentActor, currentCommit } from './provenance.ts';
import type { MigrationContext } from './run.ts';

export interface AdoptOptions {
  from?: AdoptSource;
  /** SCHEMA.TABLE of the history, when the tool keeps it elsewhere or left several. */
  table?: string;
  /** Record what the plan adopts (the caller holds the environment lock); otherwise read-only. */
  write?: boolean;
}

export interface AdoptReport {
  plan: AdoptionPlan;
  /** How many files were recorded (0 without write, or when something blocked). */
  recorded: number;
}

export async function adoptMigrations(client: pg.ClientBase, ctx: MigrationContext, options: AdoptOptions = {}): Promise<AdoptReport> {
  const settings = ctx.env.migrations;
  const read = await readMigrationFiles(ctx.root, settings.directory);
  const candidate = await chooseForeignHistory(client, options, ctx.env.name);
  const [history, own] = await Promise.all([readForeignHistory(client, candidate), readHistory(client, read.files)]);
  const { files, problems: duplicateProblems } = resolveDuplicates(read.files, own);

  const applied = new Map(history.migrations.filter((m) => m.state === 'applied').map((m) => [m.matchBy === 'version' && /^\d+$/.test(m.key) ? BigInt(m.key).toString() : m.key, m]));
  const matchBy = history.migrations[0]?.matchBy ?? 'version';
  const matched = files.filter((f) => applied.has(fileKey(f, matchBy)) || (history.baselineVersion !== undefined && f.version <= history.baselineVersion));
  const verdicts = new Map<string, ContentVerdict>();
  for (const file of matched) {
    const m = applied.get(fileKey(file, matchBy));
    if (m) verdicts.set(file.path, await compareContent(file.sql, m.content));
  }
  // Where the tool stored nothing of the content, the database is the evidence.
  const unverified = matched.filter((f) => (verdicts.get(f.path)?.kind ?? 'not-stored') === 'not-stored');
  const missing = new Map<string, string[]>();
  if (unverified.length > 0) {
    const expected = await expectedObjects(matched.map((f) => ({ path: f.path, sql: f.sql })));
    for (const gap of await missingObjects(client, expected.filter((e) => unverified.some((f) => f.path === e.file)))) {
      missing.set(gap.file, [...(missing.get(gap.file) ?? []), gap.label]);
    }
  }

  const plan = planAdoption({
    files,
    ordering: read.ordering,
    history,
    own,
    verdicts,
    missing,
    allowMissing: settings.allowMissing,
    environment: ctx.env.name,
    directory: settings.directory,
  });
  plan.problems = sortProblems([...read.problems, ...duplicateProblems, ...plan.problems]);
  if (!options.write || hasErrors(plan.problems) || plan.toRecord.length === 0) return { plan, recorded: 0 };

  const processEnv = ctx.processEnv;
  await ensureHistory(client, read.files);
  const appliedBy = currentActor(processEnv);
  const commit = await currentCommit(ctx.root, processEnv);
  const adoptedFrom = `${history.source} (${history.table})`;
  const sql = plan.toRecord.map(({ file, appliedAt }) =>
    upsertRecordSql({
      id: file.id,
      version: file.version,
      name: file.name,
      checksum: file.checksum,
      status: 'applied',
      execution: 'adopted',
      appliedBy,
      commit,
      adoptedFrom,
      durationSql: '0',
      // When the other tool applied it, where it says so.
      ...(appliedAt ? { appliedAtSql: `${literal(appliedAt.toISOString())}::timestamptz` } : {}),
    }),
  );
  await client.query(`BEGIN;\n${sql.join(';\n')};\nCOMMIT;`);
  return { plan, recorded: plan.toRecord.length };
}
