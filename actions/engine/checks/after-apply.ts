/**
 * After apply: run the environment's checks against what was just applied. When one
 * fails, take back that apply's forward flag moves — in ONE transaction with a ledger entry
 * of kind 'revert' — so that a bad flag flip undoes itself. Its moves toward safety (a
 * rollback, a flag turned off, a kill switch tripped) stay: revert-policy.ts decides, and the
 * entry's summary lists what was kept. Migrations are forward-only: they are never
 * reverted, and the report says so.
 */
import type pg from 'pg';
import { ledgerChangeOf, ledgerChangesOf, type ApplyResult } from '../apply/apply-environment.ts';
import type { FlagDefinition } from '../../../packages/provider/src/definition.ts';
import type { Environment, JsonValue } from '../config/model.ts';
import type { FlagChange } from '../plan/types.ts';
import { readOnly, type Session } from '../session.ts';
import { recordFlagChanges, withFlagTransaction } from '../store/flag-writer.ts';
import type { LedgerChange } from '../store/ledger.ts';
import { liveDefinitionOf, readLiveState } from '../store/live-state.ts';
import { checkAccess } from './guard.ts';
import { runEnvironmentChecks } from './run-checks.ts';
import { revertStep, type KeptPart, type RevertTarget } from './revert-policy.ts';
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
  /** The flags put back, with the value they have now (undefined: removed again) and the value the apply had set. */
  reverted: { key: string; restored?: JsonValue; undone?: JsonValue }[];
  /** The parts of the apply's changes that were moves toward safety, kept as the apply made them. */
  kept: KeptPart[];
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

/**
 * Put the forward flag moves of `applied` back to their previous value and position, with a
 * 'revert' ledger entry, in one transaction; its rollbacks, flags turned off and kill-switch
 * trips stay (revert-policy.ts), and the entry's summary says so.
 */
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
    const steps = changes.map((change) => ({ change, step: revertStep(change) }));
    const undo = steps.flatMap(({ change, step }) => (step.target ? [{ change, target: step.target, partial: step.kept.length > 0 }] : []));
    const kept = steps.flatMap(({ step }) => step.kept);
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
        summary: {
          reverts: applied.ledgerId,
          flags: undo.length,
          migrations_kept: applied.migrationsApplied,
          kept: kept.map((k) => ({ key: k.key, part: k.part, move: k.move, reason: k.reason })),
        },
      },
      undo.flatMap((u) => revertLedgerChanges(u.change, u.target, u.partial)),
      undo.map(({ change, target }) => ({ key: change.key, ...target })),
    );
    return {
      ledgerId,
      reverted: undo.map(({ change, target }) => ({ key: change.key, ...(target.value !== undefined ? { restored: target.value } : {}), ...(change.after !== undefined ? { undone: change.after } : {}) })),
      kept,
    };
  });
}

/**
 * The ledger rows of a revert: from what the apply set to where the revert leaves the flag,
 * and the serving part's row swapped when it is restored (without the plain read when part
 * of the change stays: the apply's plain reads no longer describe it).
 */
function revertLedgerChanges(change: FlagChange, target: RevertTarget, partial: boolean): LedgerChange[] {
  const undone: LedgerChange = {
    ...ledgerChangeOf({ ...change, before: change.after, after: target.value, from: change.to, to: target.position, drift: undefined }),
    action: 'revert',
  };
  if (target.serving === change.serving && partial) return [undone];
  const serving = ledgerChangesOf(change).find((row) => row.action === 'serving');
  if (!serving) return [undone];
  const side = (value: JsonValue | null | undefined): JsonValue | null => {
    if (!partial || value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) return value ?? null;
    const { plain_read: _plain, ...rest } = value;
    return rest;
  };
  return [undone, { ...serving, oldValue: side(serving.newValue), newValue: side(serving.oldValue) }];
}
