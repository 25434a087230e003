/** The I/O half of planning: read live state and pending migrations, then call the pure planner. */
import type pg from 'pg';
import type { Environment } from '../config/model.ts';
import { hasExitCriteria } from '../config/exit-criteria.ts';
import { readCriteriaMeasurements } from '../monitors/measurements.ts';
import { previewMigrations, type MigrationPreview } from '../migrate/index.ts';
import { readIntegrityWarnings } from '../store/ledger-audit.ts';
import { readLiveState, type LiveState } from '../store/live-state.ts';
import { buildPlan, type GateContext } from './planner.ts';
import { timed, timedSync } from '../timings.ts';
import type { MigrationPlanPart, Plan } from './types.ts';

export interface PlanContext {
  root: string;
  env: Environment;
  processEnv: NodeJS.ProcessEnv;
  commit: string | null;
  gates?: GateContext;
  /**
   * Re-check the ledger's hash chain for the plan's warnings (default true). Its cost grows with
   * the latest entries' changes; a caller that shows no plan (the CLI's apply) skips it.
   */
  ledgerCheck?: boolean;
}

export interface PlanReading {
  plan: Plan;
  live: LiveState;
  preview: MigrationPreview;
}

export async function readPlan(client: pg.ClientBase, ctx: PlanContext): Promise<PlanReading> {
  // Together: the migration files are read from disk while the database answers.
  const [preview, live] = await Promise.all([
    timed('plan: migrations preview', () => previewMigrations(client, { root: ctx.root, env: ctx.env, processEnv: ctx.processEnv })),
    timed('plan: read live', () => readLiveState(client, ctx.env.flagTable)),
  ]);
  // After: one client runs one query at a time (pg deprecates queueing them).
  const ledger = ctx.ledgerCheck === false ? undefined : await timed('plan: ledger check', () => readIntegrityWarnings(client, ctx.env.name, { quick: true }));
  const gates = ctx.gates && hasExitCriteria(ctx.env) ? { ...ctx.gates, measurements: await readCriteriaMeasurements(client, ctx.env, live) } : ctx.gates;
  const plan = timedSync('plan: build', () => buildPlan({ desired: ctx.env, live, migrations: migrationPart(preview), commit: ctx.commit, ...(gates ? { gates } : {}) }));
  return { plan: ledger ? { ...plan, ledger } : plan, live, preview };
}

export function migrationPart(preview: MigrationPreview): MigrationPlanPart {
  const applied = preview.plan.entries.filter((e) => e.state === 'applied').length;
  return {
    appliedCount: applied,
    pending: preview.prepared.map((p) => ({
      version: p.file.version.toString(),
      name: p.file.name,
      file: p.file.path,
      checksum: p.file.checksum,
      transactional: p.execution === 'transaction' || p.execution === 'script',
      findings: preview.lint
        .filter((f) => f.file === p.file.path)
        .map((f) => ({ rule: f.rule, severity: f.severity, message: f.message, line: f.line, column: f.column, ...(f.help ? { help: f.help } : {}), ...(f.lowRisk ? { lowRisk: f.lowRisk } : {}) })),
    })),
    blockers: preview.problems.filter((p) => p.severity === 'error').map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`),
  };
}
