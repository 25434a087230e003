/**
 * The pure part of `migrate adopt`: the other tool's history × the files × rollout's own
 * history (and what was found about each file's content) → what adopt records, what stays
 * pending, and every mismatch. Nothing is guessed: a file is adopted only when the other tool
 * applied it and its content agrees with what the tool stored (or, where the tool stores
 * nothing, with the database); everything else is reported with the way out.
 */
import type { Problem } from '../problems.ts';
import { compareMigrations, type MigrationFile, type MigrationOrdering } from './files.ts';
import type { HistoryRecord } from './history.ts';
import type { ForeignHistory, ForeignMigration } from './adopt-sources.ts';
import type { ContentVerdict } from './adopt-content.ts';

export type AdoptionState = 'adopt' | 'already' | 'pending' | 'mismatch';

export interface AdoptionEntry {
  file?: MigrationFile;
  foreign?: ForeignMigration;
  state: AdoptionState;
  /** How the match was established, or what is wrong, for the listing. */
  note: string;
}

export interface AdoptionPlan {
  source: ForeignHistory['source'];
  table: string;
  entries: AdoptionEntry[];
  /** The files adopt --write records, in order. */
  toRecord: { file: MigrationFile; appliedAt: Date | null }[];
  problems: Problem[];
}

export interface AdoptionInput {
  files: readonly MigrationFile[];
  ordering: MigrationOrdering;
  history: ForeignHistory;
  /** rollout's own history: files it has already are not adopted again. */
  own: readonly HistoryRecord[];
  /** What compareContent (and, for tools that store no content, the database) said about each matched file, by path. */
  verdicts: ReadonlyMap<string, ContentVerdict>;
  /** Objects adopted files create that the database lacks, by path (tools that store no content). */
  missing: ReadonlyMap<string, string[]>;
  allowMissing: boolean;
  environment: string;
  directory: string;
}

/** How a tool's row names a file: `<version>_<name>` (the file or folder name without .sql), or its version. */
export const fileKey = (file: MigrationFile, matchBy: ForeignMigration['matchBy']): string => (matchBy === 'name' ? `${file.versionText}_${file.name}` : file.version.toString());
const foreignKey = (m: ForeignMigration): string => (m.matchBy === 'version' && /^\d+$/.test(m.key) ? BigInt(m.key).toString() : m.key);

const TOOL_NAMES = { prisma: 'Prisma', dbmate: 'dbmate', flyway: 'Flyway', 'node-pg-migrate': 'node-pg-migrate', supabase: 'the Supabase CLI', 'golang-migrate': 'golang-migrate' } as const;

export function planAdoption(input: AdoptionInput): AdoptionPlan {
  const { history } = input;
  const tool = TOOL_NAMES[history.source];
  const matchBy = history.migrations[0]?.matchBy ?? (history.source === 'prisma' || history.source === 'node-pg-migrate' ? 'name' : 'version');
  const foreign = new Map(history.migrations.map((m) => [foreignKey(m), m]));
  const own = new Map(input.own.map((r) => [r.id, r]));
  const entries: AdoptionEntry[] = [];
  const toRecord: AdoptionPlan['toRecord'] = [];
  const problems: Problem[] = [];
  const problem = (file: string, severity: Problem['severity'], message: string): void => void problems.push({ file, line: 1, column: 1, severity, message });
  const byBaseline = (file: MigrationFile): boolean => history.baselineVersion !== undefined && file.version <= history.baselineVersion;
  // The newest file the tool applied: files before it that it did not apply would run out of order.
  let newestApplied: MigrationFile | undefined;
  for (const file of input.files) {
    const m = foreign.get(fileKey(file, matchBy));
    if ((m?.state === 'applied' || (!m && byBaseline(file))) && (!newestApplied || compareMigrations(file, newestApplied, input.ordering) > 0)) newestApplied = file;
  }

  for (const file of input.files) {
    const key = fileKey(file, matchBy);
    const m = foreign.get(key);
    foreign.delete(key);
    const mine = own.get(file.id);
    if (mine) {
      entries.push({ file, ...(m ? { foreign: m } : {}), state: 'already', note: `already in rollout's history (${mine.execution})` });
      continue;
    }
    if (!m) {
      if (byBaseline(file)) {
        entries.push({ file, state: 'adopt', note: history.source === 'flyway' ? `up to Flyway's baseline (version ${history.baselineVersion}); Flyway stored nothing of it` : `up to ${tool}'s current version (${history.baselineVersion}); ${tool} stores nothing of each migration` });
        toRecord.push({ file, appliedAt: null });
        continue;
      }
      const early = newestApplied && compareMigrations(file, newestApplied, input.ordering) < 0;
      entries.push({ file, state: 'pending', note: early ? `not applied by ${tool}, though later files were` : `not applied by ${tool}: rollout runs it` });
      if (early) {
        problem(
          file.path,
          'warning',
          `${file.path} is not in ${tool}'s history (${history.table}), though ${newestApplied!.path} after it is. It stays pending: apply runs it out of order only with migrations.allow_out_of_order: true, so check whether the database has it already.`,
        );
      }
      continue;
    }
    if (m.state === 'failed') {
      entries.push({ file, foreign: m, state: 'mismatch', note: `failed in ${tool}` });
      problem(
        file.path,
        'error',
        `${file.path} is recorded as failed in ${tool}'s history (${history.table})${m.detail ? `: ${m.detail}` : ''}. It may be partly applied: finish or undo it with ${tool} (e.g. prisma migrate resolve), or repair the database by hand, then run adopt again.`,
      );
      continue;
    }
    if (m.state === 'rolled-back') {
      entries.push({ file, foreign: m, state: 'pending', note: `rolled back in ${tool}: rollout runs it` });
      problem(file.path, 'warning', `${file.path} was rolled back in ${tool}'s history (${history.table}): it is not recorded, and the next apply runs it.`);
      continue;
    }
    const verdict = input.verdicts.get(file.path) ?? { kind: 'not-stored' };
    const missing = input.missing.get(file.path) ?? [];
    if (verdict.kind === 'differs') {
      entries.push({ file, foreign: m, state: 'mismatch', note: `content differs: ${verdict.why}` });
      problem(
        file.path,
        'error',
        `${file.path} is not the file ${tool} applied: ${verdict.why}. Restore the file as it was applied (git log -p -- ${file.path}) and put the change in a new migration; if the database already matches this content, adopt the rest and record it with \`rollout migrate baseline --env ${input.environment} --version ${file.version}\`.`,
      );
      continue;
    }
    if (missing.length > 0) {
      entries.push({ file, foreign: m, state: 'mismatch', note: `the database lacks ${missing.join(', ')}` });
      problem(
        file.path,
        'error',
        `${file.path} was applied by ${tool} (which keeps no checksum), but the database has no ${missing.join(', ')}, which this file creates and no later adopted file drops or renames. The file differs from what ran, or the database was changed by hand: restore the file as it was applied (git log -p -- ${file.path}), or repair the database, then run adopt again.`,
      );
      continue;
    }
    const how =
      verdict.kind === 'match' ? verdict.how : `${tool} stores no checksum: matched by ${matchBy}, and the database has every table, column, index, view and enum type it creates`;
    entries.push({ file, foreign: m, state: 'adopt', note: `applied by ${tool}${m.appliedAt ? ` on ${m.appliedAt.toISOString()}` : ''}; ${how}` });
    toRecord.push({ file, appliedAt: m.appliedAt });
  }

  // The tool applied these, and there is no file for them.
  for (const m of foreign.values()) {
    if (m.state !== 'applied') continue;
    const path = `${input.directory}/${m.key}`;
    entries.push({ foreign: m, state: 'mismatch', note: `applied by ${tool}, no file` });
    problem(
      path,
      input.allowMissing ? 'warning' : 'error',
      `${tool} applied ${m.matchBy === 'name' ? m.key : `version ${m.key}`} (${history.table}), but ${input.directory}/ has no file for it. ` +
        (input.allowMissing
          ? 'Ignored (migrations.allow_missing is true).'
          : `Add the file it ran (from the ${tool} project's migrations folder), or set migrations.allow_missing: true in the environment if it was removed on purpose.`),
    );
  }
  return { source: history.source, table: history.table, entries, toRecord, problems };
}
