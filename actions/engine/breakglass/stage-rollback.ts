/**
 * Automatic stage rollback, the break-glass way: a breached exit criterion moves its flags
 * back at once, with no gate, written with one ledger entry of kind 'auto-rollback' (the
 * measurements that caused it in its summary, and as rows of rollout.measurements naming it)
 * in one flag transaction. Like a kill switch it takes only the flag-write lock, never the
 * environment lock an apply holds through its migrations: a rollback waits for no migration.
 * An apply's flag step re-plans under the same lock, so it sees the rollback and holds it.
 * Plan then shows the flags as held until Git records the position they were moved back to.
 */
import type pg from 'pg';
import type { Environment, JsonValue } from '../config/model.ts';
import { insertMeasurements, type MeasurementRow } from '../monitors/measurements.ts';
import type { StageRollback } from '../monitors/stage-rollback.ts';
import { comparePositions, ladderPositionOrOff, type Position } from '../stages/ladder.ts';
import { recordFlagChanges, withFlagTransaction } from '../store/flag-writer.ts';
import type { LedgerChange } from '../store/ledger.ts';
import { readLiveState } from '../store/live-state.ts';

export interface StageRollbackRequest {
  rollbacks: readonly StageRollback[];
  /** Every measurement of the run; those of the monitors that caused a rollback get the entry's id. */
  measurements: readonly MeasurementRow[];
  actor: string;
}

export interface StageRollbackResult {
  /** null when no flag was still where the rollback expected it (nothing but the measurements written). */
  ledgerId: number | null;
  /** The rollbacks made (a flag someone moved meanwhile is left alone). */
  done: StageRollback[];
}

export async function rollBackStages(client: pg.ClientBase, env: Environment, request: StageRollbackRequest): Promise<StageRollbackResult> {
  // No DDL here (it could wait behind a migration): health made the tool's tables before measuring.
  return withFlagTransaction(client, env.name, async () => {
    const live = await readLiveState(client, env.flagTable);
    // Under the lock, the live position is re-read: an apply that moved the flag since the measurement wins.
    const done = request.rollbacks.filter((r) => {
      const rollout = live.rollouts.get(r.flag);
      return rollout && live.flags.has(r.flag) && comparePositions(ladderPositionOrOff(rollout), r.from) === 0;
    });
    if (done.length === 0) {
      await insertMeasurements(client, env.name, request.measurements);
      return { ledgerId: null, done };
    }
    const causes = new Set(done.flatMap((r) => r.monitors));
    const changes: LedgerChange[] = done.map((r) => {
      const value = live.flags.get(r.flag)?.value ?? null;
      return { subject: 'flag', key: r.flag, action: 'auto-rollback', oldValue: value, newValue: value, oldStage: r.from.stage, newStage: r.to.stage, oldPercent: percentOf(r.from), newPercent: percentOf(r.to) };
    });
    const breached = request.measurements.filter((m) => causes.has(m.monitor));
    const reason = `exit criteria breached: ${breached.map((m) => `"${m.monitor}" (${m.detail})`).join('; ')}`;
    const ledgerId = await recordFlagChanges(
      client,
      live.flagTable,
      {
        environment: env.name,
        kind: 'auto-rollback',
        actor: request.actor,
        commit: null,
        pullRequest: null,
        planHash: null,
        outcome: 'applied',
        reason,
        summary: {
          trigger: `monitor: ${[...causes].join(', ')}`,
          measurements: breached.map((m): JsonValue => ({ monitor: m.monitor, verdict: m.verdict, value: Number.isFinite(m.value) ? (m.value as number) : null, detail: m.detail })),
          flags: done.map((r) => r.flag),
        },
      },
      changes,
      done.map((r) => ({ key: r.flag, value: live.flags.get(r.flag)?.value as JsonValue, position: { stage: r.to.stage, percent: percentOf(r.to) } })),
      (id) => insertMeasurements(client, env.name, request.measurements.map((m) => (causes.has(m.monitor) && m.ledgerId == null ? { ...m, ledgerId: id } : m))),
    );
    return { ledgerId, done };
  });
}

const percentOf = (p: Position): number | null => (p.stage === 'canary' ? (p.percent ?? null) : null);
