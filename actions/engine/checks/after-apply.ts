/**
 * After apply: run the environment's checks against what was just applied. When one
 * fails, put that apply's flag changes back to their previous values — in ONE
 * transaction with a ledger entry of kind 'revert' — so that a bad flag flip undoes
 * itself. Migrations are forward-only: they are never reverted, and the report says so.
 */
import type pg from 'pg';
import { ledgerChangeOf, ledgerChangesOf, type ApplyResult } from '../apply/apply-environment.ts';
import type { FlagDefinition } from '../../../packages/provider/src/definition.ts';
import type { Environment, JsonValue } from '../config/model.ts';
import type { FlagChange } from '../plan/types.ts';
import { readOnly, type Session } from '../session.ts';
import { recordFlagChanges, withFlagTransaction, type FlagWrite } from '../store/flag-writer.ts';
import type { LedgerChange } from '../store/ledger.ts';
import { liveDefinitionOf, readLiveState } from '../store/live-state.ts';
import { checkAccess } from './guard.ts';
import { runEnvironmentChecks } from './run-checks.ts';
import type { CheckReport } from './types.ts';

export interface VerifyAfterApplyOptions {
  root: string;
  processEnv: NodeJS.ProcessEnv;
  actor: string;
  commit: string | null;
  pullRequest: number | null;
  concurrency?: number;
  timeoutMs?: number;
}

export interface RevertResult {
  ledgerId: number;
  /** The flags put back, with the value they had before the apply (undefined: removed again). */
  reverted: { key: string; restored?: JsonValue; undone?: JsonValue }[];
}

export interface VerifyAfterApplyResult {
  report: CheckReport;
  /** Set when checks failed and the apply's flag changes were reverted. */
  revert: RevertResult | null;
  /** Migrations of this apply that stay applied whatever the checks say (forward only). */
  migrationsKept: string[];
}

/** The value table and the live definitions, read in one read-only snapshot (empty before the flag table exists): what when_flag decides on. */
export async function liveFlagView(client: pg.ClientBase, env: Environment): Promise<{ flags: Map<string, JsonValue>; definitions: Map<string, FlagDefinition> }> {
  const live = await readOnly(client, () => readLiveState(client, env.flagTable));
  // What a service reading the value table sees (a hand edit included), not the definition's value.
  const flags = new Map([...live.flags].map(([key, flag]) => [key, flag.stored?.value ?? flag.value]));
  const definitions = new Map<string, FlagDefinition>();
  for (const key of live.flags.keys()) {
    const definition = liveDefinitionOf(key, live);
    if (definition) definitions.set(key, definition);
  }
  return { flags, definitions };
}

/** Call with the session that applied (it still holds the environment lock). */
export async function verifyAfterApply(session: Session, applied: ApplyResult, options: VerifyAfterApplyOptions): Promise<VerifyAfterApplyResult> {
  const { env, db, client } = session;
  const report = await runEnvironmentChecks(env, {
    root: options.root,
    processEnv: options.processEnv,
    access: checkAccess(env, db),
    ...(await liveFlagView(client, env)),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (report.ok || applied.flagChanges.length === 0) return { report, revert: null, migrationsKept: applied.migrationsApplied };
  const failing = report.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => r.name);
  const reason = `checks failed after apply${applied.ledgerId !== null ? ` #${applied.ledgerId}` : ''}: ${failing.join(', ')}`;
  // The checks may have restarted the embedded database (a runaway check): revert on a client that works, under the lock.
  const revert = await revertFlagChanges(await session.writer(), env, applied, reason, options);
  return { report, revert, migrationsKept: applied.migrationsApplied };
}

/** Put every flag change of `applied` back to its previous value and position, with a 'revert' ledger entry, in one transaction. */
export async function revertFlagChanges(
  client: pg.ClientBase,
  env: Environment,
  applied: ApplyResult,
  reason: string,
  meta: { actor: string; commit: string | null; pullRequest: number | null },
): Promise<RevertResult> {
  return withFlagTransaction(client, env.name, async () => {
    // A flag written since this apply (a kill switch set while the checks ran) is not this apply's to undo.
    const live = await readLiveState(client, applied.plan.flagTable);
    const changes = applied.flagChanges.filter((c) => c.action !== 'hold' && (live.rollouts.get(c.key)?.ledgerId ?? applied.ledgerId) === applied.ledgerId);
    const ledgerId = await recordFlagChanges(
      client,
      applied.plan.flagTable,
      {
        environment: env.name,
        kind: 'revert',
        actor: meta.actor,
        commit: meta.commit,
        pullRequest: meta.pullRequest,
        planHash: applied.plan.hash,
        outcome: 'reverted',
        reason,
        summary: { reverts: applied.ledgerId, flags: changes.length, migrations_kept: applied.migrationsApplied },
      },
      changes.flatMap(revertLedgerChanges),
      changes.map(revertWrite),
    );
    return { ledgerId, reverted: changes.map((c) => ({ key: c.key, ...(c.before !== undefined ? { restored: c.before } : {}), ...(c.after !== undefined ? { undone: c.after } : {}) })) };
  });
}

/** The ledger rows of undoing a change: the change's rows with their two sides swapped. */
function revertLedgerChanges(change: FlagChange): LedgerChange[] {
  const { before, after, from, to } = change;
  const undone: LedgerChange = { ...ledgerChangeOf({ ...change, before: after, after: before, from: to, to: from, drift: undefined }), action: 'revert' };
  const serving = ledgerChangesOf(change).find((row) => row.action === 'serving');
  return serving ? [undone, { ...serving, oldValue: serving.newValue, newValue: serving.oldValue }] : [undone];
}

/**
 * An added flag is removed again; a changed or removed one gets its old value, position and
 * serving part back (a definition an older version never stored keeps Git's serving part,
 * so the value table still holds no more than the stage allows).
 */
const revertWrite = (change: FlagChange): FlagWrite => {
  const serving = change.servingBefore ?? change.serving;
  return { key: change.key, ...(change.before === undefined ? {} : { value: change.before }), position: change.from, ...(serving ? { serving } : {}) };
};
