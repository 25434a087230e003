/** The migrator: plain SQL files in order, history in rollout.schema_migrations. */
export { inspectMigrations, previewMigrations, applyMigrations, baselineMigrations } from './run.ts';
export type { MigrationContext, MigrationStatus, MigrationPreview, ApplyReport, ApplyOptions } from './run.ts';
export { planMigrations, planBaseline } from './planner.ts';
export type { MigrationPlan, MigrationEntry, MigrationState, PlanRules } from './planner.ts';
export { readMigrationFiles, type MigrationFile } from './files.ts';
export { readHistory, ensureHistory, HISTORY_TABLE, type HistoryRecord } from './history.ts';
export type { PreparedMigration, ProgressEvent, AppliedMigration } from './execute.ts';
export type { LintFinding } from './lint.ts';
export { MigrationError } from './migration-error.ts';
export { checksumSql, normalizeSql } from './checksum.ts';
export { renderStatus, renderPreview, renderAdoption } from './render.ts';
export { progressReporter } from './progress.ts';
export { adoptMigrations, type AdoptOptions, type AdoptReport } from './adopt.ts';
export { ADOPT_SOURCES, type AdoptSource } from './adopt-sources.ts';
export type { AdoptionPlan, AdoptionEntry } from './adopt-plan.ts';
