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
  // Together: the migration files are read from disk while the database answers. The
  // preview's syntax check, which fails a statement under a savepoint, waits for the live reads.
  const reading = timed('plan: read live', () => readLiveState(client, ctx.env.flagTable));
  const [preview, live] = await Promise.all([
    timed('plan: migrations preview', () => previewMigrations(client, { root: ctx.root, env: ctx.env, processEnv: ctx.processEnv }, { after: reading.catch(() => undefined) })),
    reading,
  ]);
  // After: one client runs one query at a time (pg deprecates queueing them).
  const ledger = ctx.ledgerCheck === false ? undefined : await timed('plan: ledger check', () => readIntegrityWarnings(client, ctx.env.name, { quick: true }));
  const measured = ctx.gates && hasExitCriteria(ctx.env) ? { ...ctx.gates, measurements: await readCriteriaMeasurements(client, ctx.env, live) } : ctx.gates;
  const soaked = soakedDependencies(ctx.env);
  const gates = measured && soaked.length > 0 && live.rollouts.size > 0 ? { ...measured, dependenciesOnSince: await readOnSince(client, ctx.env.name, soaked) } : measured;
  const plan = timedSync('plan: build', () => buildPlan({ desired: ctx.env, live, migrations: migrationPart(preview), commit: ctx.commit, ...(gates ? { gates } : {}) }));
  return { plan: ledger ? { ...plan, ledger } : plan, live, preview };
}

/** The flags some depends_on `{ flag, for }` waits on. */
function soakedDependencies(env: Environment): string[] {
  const keys = new Set<string>();
  for (const flag of env.flags.values()) for (const key of flag.dependencySoaks?.keys() ?? []) keys.add(key);
  return [...keys];
}

/**
 * When each flag last moved out of off (or, without a rollout, last changed), from this
 * environment's ledger: a dependency's soak counts from there, as a flag's own soak counts from
 * its stage_since (both the database's clock).
 */
export async function readOnSince(client: pg.ClientBase, environment: string, keys: readonly string[]): Promise<Map<string, Date>> {
  const { rows } = await client.query<{ key: string; since: Date }>(
    `SELECT c.key, max(l.at) AS since
       FROM rollout.ledger_changes c JOIN rollout.ledger l ON l.id = c.ledger_id
      WHERE c.subject = 'flag' AND c.key = ANY($1::text[]) AND l.environment = $2
        AND c.new_stage IS DISTINCT FROM 'off' AND (c.old_stage IS NULL OR c.old_stage = 'off')
      GROUP BY c.key`,
    [keys, environment],
  );
  return new Map(rows.map((r) => [r.key, r.since]));
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
    ...warningsOf(preview),
  };
}

/** A reviewer reads the plan, not validate's output: the migrations' warnings belong in it. */
function warningsOf(preview: MigrationPreview): { warnings?: string[] } {
  const warnings = preview.problems.filter((p) => p.severity === 'warning').map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
  return warnings.length > 0 ? { warnings } : {};
}
