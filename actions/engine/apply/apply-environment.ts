/**
 * apply: make live equal desired. Under the environment lock: migrations first (each
 * in its own transaction, recorded in the history), then every flag change and its
 * ledger entry in ONE flag transaction. A crash leaves either all of the flag changes or none.
 * Kill switches never take the environment lock (only the flag-write lock), so they go
 * through while a migration runs.
 */
import { grantChecksRole, prepareChecksRole } from '../checks/checks-role.ts';
import { UserError } from '../errors.ts';
import { applyMigrations, type ProgressEvent } from '../migrate/index.ts';
import { matchesPlanHash, planHashProblem } from '../plan/hash.ts';
import { buildPlan, type GateContext } from '../plan/planner.ts';
import { readPlan } from '../plan/read-plan.ts';
import type { JsonValue } from '../config/model.ts';
import type { FlagChange, Plan } from '../plan/types.ts';
import type { ServingSpec } from '../serving/definitions.ts';
import type { Session } from '../session.ts';
import { recordFlagChanges, withFlagTransaction, type FlagWrite } from '../store/flag-writer.ts';
import { lastLedgerId, type LedgerChange } from '../store/ledger.ts';
import { readLiveState, type LiveState } from '../store/live-state.ts';
import { ensureToolSchema } from '../store/tool-schema.ts';
import { timed, timedSync } from '../timings.ts';

export interface ApplyOptions {
  root: string;
  processEnv: NodeJS.ProcessEnv;
  commit: string | null;
  actor: string;
  pullRequest: number | null;
  /** Refuse unless the plan computed now has this hash (the one that was reviewed). */
  expectedPlanHash?: string;
  /** Stage gates as of now; apply refuses a forward move a gate refuses (rollbacks always pass). */
  gates?: GateContext;
  onMigrationProgress?: (event: ProgressEvent) => void;
  /** Put the ledger check's warnings in the result's plan (default true): for callers that render that plan. */
  ledgerCheck?: boolean;
}

export interface ApplyResult {
  /** The plan as computed before anything was applied (its hash is the one checked). */
  plan: Plan;
  migrationsApplied: string[];
  flagChanges: FlagChange[];
  /** Flags apply left as break-glass set them (seen in the flag step, so a kill during the migrations counts). */
  held: FlagChange[];
  ledgerId: number | null;
  backup?: string;
}

export class StalePlanError extends UserError {
  override readonly name = 'StalePlanError';
}

export async function applyEnvironment(session: Session, options: ApplyOptions): Promise<ApplyResult> {
  const { client, env, db } = session;
  await timed('apply: tool schema', () => ensureToolSchema(client));
  const ctx = { root: options.root, env, processEnv: options.processEnv, commit: options.commit, ...(options.gates ? { gates: options.gates } : {}), ...(options.ledgerCheck === false ? { ledgerCheck: false } : {}) };
  const expected = options.expectedPlanHash;
  const malformed = expected === undefined ? null : planHashProblem(expected);
  if (malformed) throw new UserError(malformed);
  // Before live state is read: a flag writer that commits after this moves it (see the flag step).
  const ledgerTip = await lastLedgerId(client, env.name);
  const reading = await timed('apply: plan', () => readPlan(client, ctx));
  const { plan } = reading;
  if (expected !== undefined && !matchesPlanHash(plan.hash, expected)) {
    throw new StalePlanError(
      `the reviewed plan (${expected.slice(0, 12)}) no longer matches ${env.name}: desired or live state changed since (plan now ${plan.hash.slice(0, 12)}). Nothing was applied. Run rollout plan --env ${env.name} again and review the new plan.`,
    );
  }
  if (plan.migrations.blockers.length > 0) {
    throw new UserError(`cannot apply ${env.name}: ${plan.migrations.blockers.join('; ')}`);
  }
  const refused = plan.flags.filter((c) => c.gate && !c.gate.allowed);
  if (refused.length > 0) {
    const lines = refused.map((c) => `  ${c.key}: ${(c.gate?.gates ?? []).filter((g) => !g.passed).map((g) => g.reason).join(' ')}`);
    // A first apply refused only for adopting forward positions: the soak and step advice would not apply.
    const onlyAdopt = refused.every((c) => (c.gate?.gates ?? []).every((g) => g.passed || g.gate === 'adopt'));
    const next = onlyAdopt ? 'Each line says how to go on.' : 'Wait for the soak, move one step at a time, or promote upstream first.';
    throw new UserError(`cannot apply ${env.name}: ${refused.length} stage move(s) refused by their gates; nothing was applied.\n${lines.join('\n')}\n${next} Rollbacks and kill switches are never refused.`);
  }

  // Before anything changes: an environment whose checks could not run safely is refused with nothing applied.
  await timed('apply: checks role', () => prepareChecksRole(client, env));
  const report = await timed('apply: migrations', () => applyMigrations(client, ctx, {
    // The files the plan (and its hash) was computed from are the ones that run.
    files: reading.preview.files,
    backup: (directory) => db.backup(directory),
    ...(options.onMigrationProgress ? { onProgress: options.onMigrationProgress } : {}),
  }));
  const migrationsApplied = report.applied.map((m) => m.file.path);

  // After migrations, so that the tables and schemas they created are readable by checks too.
  await timed('apply: checks grant', () => grantChecksRole(client, env));
  // The flag step takes only the flag-write lock: a kill switch set while the migrations ran
  // has committed by now, and the live state planned on below (read after the lock) holds it.
  const flagStep = await timed('apply: flag transaction', () => withFlagTransaction(client, env.name, async () => {
    const flagChanges = await flagChangesUnderLock(client, env, options.commit, { plan, live: reading.live, ledgerTip, migrated: migrationsApplied.length > 0 });
    const toApply = flagChanges.filter((c) => c.action !== 'hold');
    const held = flagChanges.filter((c) => c.action === 'hold');
    if (toApply.length === 0 && migrationsApplied.length === 0) return { ledgerId: null, toApply, held };
    const ledgerId = await recordFlagChanges(
      client,
      plan.flagTable,
      {
        environment: env.name,
        kind: 'apply',
        actor: options.actor,
        commit: options.commit,
        pullRequest: options.pullRequest,
        planHash: plan.hash,
        outcome: 'applied',
        summary: { flags: toApply.length, migrations: migrationsApplied.length, held: held.length },
      },
      [...migrationsApplied.map((file): LedgerChange => ({ subject: 'migration', key: file, action: 'applied' })), ...toApply.flatMap(ledgerChangesOf)],
      toApply.map(writeOf),
      () => faultPause(options.processEnv),
    );
    return { ledgerId, toApply, held };
  }));
  const backup = report.backup ? { backup: report.backup } : {};
  return { plan, migrationsApplied, flagChanges: flagStep.toApply, ledgerId: flagStep.ledgerId, held: flagStep.held, ...backup };
}

/**
 * The flag changes to write, decided under the flag-write lock. Every flag writer (apply,
 * revert, break-glass, rollback, import) appends a ledger entry for the environment in the
 * transaction that writes, holding this same lock, so the environment's last ledger id moves
 * exactly when one of them has committed. When it has not moved since before the plan was read
 * and no migration ran (one may have changed rows or created the flag table), live flags are as
 * the plan read them and its changes stand: reading 10,000 flags again and planning them again
 * would double the transaction for nothing. Otherwise live state is read again and planned again.
 * A hand edit of the value table takes no lock of ours at any time; it shows as drift next plan.
 */
async function flagChangesUnderLock(
  client: Session['client'],
  env: Session['env'],
  commit: string | null,
  read: { plan: Plan; live: LiveState; ledgerTip: number | null; migrated: boolean },
): Promise<FlagChange[]> {
  const unchanged = !read.migrated && (await lastLedgerId(client, env.name)) === read.ledgerTip;
  const live = unchanged ? read.live : await timed('flag tx: read live', () => readLiveState(client, env.flagTable));
  if (!live.flagTableExists) {
    throw new UserError(
      `flag_store.table ${live.flagTable} does not exist in ${env.name}. Create it in a migration: CREATE TABLE ${live.flagTable} (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()).`,
    );
  }
  if (unchanged) return read.plan.flags;
  return timedSync('flag tx: plan', () => buildPlan({ desired: env, live, migrations: { appliedCount: 0, pending: [], blockers: [] }, commit })).flags;
}

/**
 * The ledger rows of one flag change: its value and position, and, when the change moves what
 * is served beside them — the off value, segments or kill-switch mark of a flag already live
 * (or a row an older version wrote, migrated), or drift undone — a 'serving' row with both
 * sides, including what a plain read of the value table returned and returns.
 */
export function ledgerChangesOf(change: FlagChange): LedgerChange[] {
  const rows = [ledgerChangeOf(change)];
  // A new flag's definition is the file's at that commit; a stage or value move's plain read follows from its own row.
  const servingMoved = change.servingBefore !== undefined && change.action !== 'add';
  if (change.serving && (servingMoved || change.drift !== undefined)) {
    const side = (serving: ServingSpec | null | undefined, plain: JsonValue | undefined): JsonValue => ({
      ...(serving ? { off_value: serving.offValue, segments: serving.segments as unknown as JsonValue, kill_switch: serving.killSwitch } : {}),
      ...(plain !== undefined ? { plain_read: plain } : {}),
    });
    const before = change.servingBefore === undefined ? change.serving : change.servingBefore;
    rows.push({ subject: 'flag', key: change.key, action: 'serving', oldValue: side(before, change.plain?.before), newValue: side(change.serving, change.plain?.after) });
  }
  return rows;
}

export function ledgerChangeOf(change: FlagChange): LedgerChange {
  return {
    subject: 'flag',
    key: change.key,
    action: change.action,
    // Drift undone: what the value table held is the evidence.
    oldValue: change.drift ? change.drift.live : (change.before ?? null),
    newValue: change.after ?? null,
    oldStage: change.from?.stage ?? null,
    newStage: change.to?.stage ?? null,
    oldPercent: change.from?.percent ?? null,
    newPercent: change.to?.percent ?? null,
  };
}

const writeOf = (change: FlagChange): FlagWrite => ({
  key: change.key,
  ...(change.action === 'remove' ? {} : { value: change.after }),
  position: change.to,
  ...(change.serving ? { serving: change.serving } : {}),
});


/**
 * Fault injection for the crash-safety tests: hold the flag transaction open, fully
 * written but not committed, so a test can SIGKILL the process at exactly that point.
 */
async function faultPause(processEnv: NodeJS.ProcessEnv): Promise<void> {
  const ms = Number(processEnv.ROLLOUT_FAULT_PAUSE_BEFORE_COMMIT_MS ?? 0);
  if (!(ms > 0)) return;
  process.stderr.write('rollout: fault injection: paused before COMMIT\n');
  await new Promise((resolve) => setTimeout(resolve, ms));
}
