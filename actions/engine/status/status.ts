/** status: desired vs live for each flag, its stage and for how long, and the latest ledger entries. */
import equal from 'fast-deep-equal';
import type pg from 'pg';
import type { Environment, JsonValue } from '../config/model.ts';
import { formatDuration } from '../config/duration.ts';
import { buildPlan, positionOf } from '../plan/planner.ts';
import { compactJson } from '../plan/json-diff.ts';
import type { StoredPosition } from '../plan/types.ts';
import { describePosition } from '../render/plan.ts';
import { gitSync, type GitSync } from '../render/git-sync.ts';
import type { LedgerCheck } from '../plan/types.ts';
import { readIntegrityWarnings } from '../store/ledger-audit.ts';
import { readLedger, type LedgerEntry } from '../store/ledger.ts';
import { readLiveState, type LiveRollout } from '../store/live-state.ts';

export interface FlagStatus {
  key: string;
  desired?: JsonValue;
  live?: JsonValue;
  /** What units outside the rollout are served while it is short of full (the value table's row). */
  liveOthers?: JsonValue;
  inSync: boolean;
  desiredPosition: StoredPosition | null;
  livePosition: StoredPosition | null;
  stageSince: Date | null;
}

export interface EnvironmentStatus {
  environment: string;
  flagTable: string;
  flags: FlagStatus[];
  ledger: LedgerEntry[];
  /** The ledger's head hash and what is wrong with its chain or triggers. */
  ledgerCheck: LedgerCheck;
  /** Why flags differ from Git when they do on purpose (break-glass, auto-rollback) or by drift. */
  git: GitSync;
}

export async function readStatus(client: pg.ClientBase, env: Environment, options: { ledgerLimit?: number } = {}): Promise<EnvironmentStatus> {
  const live = await readLiveState(client, env.flagTable);
  const keys = [...new Set([...env.flags.keys(), ...live.rollouts.keys()])].sort();
  const flags = keys.map((key): FlagStatus => {
    const desired = env.flags.get(key);
    const liveValue = live.flags.get(key)?.value;
    const rollout = live.rollouts.get(key);
    const desiredPosition = desired ? positionOf(desired) : null;
    const livePosition = rollout ? { stage: rollout.stage, percent: rollout.percent } : null;
    const others = othersValue(rollout);
    return {
      key,
      ...(desired ? { desired: desired.value } : {}),
      ...(liveValue !== undefined ? { live: liveValue } : {}),
      ...(others !== undefined ? { liveOthers: others } : {}),
      inSync: desired !== undefined && liveValue !== undefined && equal(desired.value, liveValue) && equal(desiredPosition, livePosition),
      desiredPosition,
      livePosition,
      stageSince: rollout?.stageSince ?? null,
    };
  });
  const ledger = await readLedger(client, { environment: env.name, limit: options.ledgerLimit ?? 10 });
  const ledgerCheck = await readIntegrityWarnings(client, env.name, { quick: true });
  const git = gitSync(buildPlan({ desired: env, live, migrations: { appliedCount: 0, pending: [], blockers: [] }, commit: null }));
  return { environment: env.name, flagTable: live.flagTable, flags, ledger, ledgerCheck, git };
}

/**
 * A flag short of full serves its value to some units only: without the other value beside
 * it, "live value {enabled: true}" reads as on for everyone.
 */
function othersValue(rollout: LiveRollout | undefined): JsonValue | undefined {
  const d = rollout?.definition;
  if (!rollout || !d || d.override !== undefined || rollout.stage === null || rollout.stage === 'full') return undefined;
  return d.offValue ?? undefined;
}

/**
 * How live stands against Git (break-glass and auto-rollback holds, drift), for a verdict
 * about something else: health's monitors. Flags only; pending migrations are plan's.
 */
export async function readGitSync(client: pg.ClientBase, env: Environment): Promise<GitSync> {
  const live = await readLiveState(client, env.flagTable);
  return gitSync(buildPlan({ desired: env, live, migrations: { appliedCount: 0, pending: [], blockers: [] }, commit: null }));
}

export function renderStatusText(status: EnvironmentStatus, now: Date): string {
  const out: string[] = [];
  const inSync = status.flags.filter((f) => f.inSync).length;
  out.push(`Status of ${status.environment}: ${inSync} of ${status.flags.length} flag(s) in sync (${status.flagTable})`);
  const rows = status.flags.map((f) => [
    f.inSync ? '✓' : '≠',
    f.key,
    describePosition(f.livePosition),
    f.stageSince ? `${formatDuration(now.getTime() - f.stageSince.getTime())}` : '',
    f.liveOthers === undefined ? compactJson(f.live) : `${compactJson(f.live)}, others ${compactJson(f.liveOthers)}`,
    f.inSync ? '' : `Git: ${compactJson(f.desired)}${f.desiredPosition && describePosition(f.desiredPosition) !== describePosition(f.livePosition) ? ` @ ${describePosition(f.desiredPosition)}` : ''}`,
  ]);
  out.push(...table(['', 'flag', 'stage', 'held for', 'live value', 'differs from'], rows));
  // A ≠ says that a flag differs, not why: a hold is on purpose and has its own way back to Git (issue 13, defect 8).
  if (!status.git.inSync) out.push('', `Why live differs from Git: ${status.git.summary}`, ...status.git.lines.map((l) => `  ! ${l}`));
  out.push('', status.ledger.length ? 'Latest ledger entries:' : 'Ledger: empty (nothing applied yet).');
  for (const entry of status.ledger) {
    const flags = entry.changes.filter((c) => c.subject === 'flag').length;
    const migrations = entry.changes.filter((c) => c.subject === 'migration').length;
    out.push(
      `  #${entry.id} ${entry.at.toISOString()} ${entry.kind} by ${entry.actor}: ${entry.outcome}, ${flags} flag change(s), ${migrations} migration(s)` +
        `${entry.commit ? `, commit ${entry.commit.slice(0, 12)}` : ''}${entry.reason ? ` — ${entry.reason}` : ''}`,
    );
  }
  if (status.ledgerCheck.head) out.push(`  Ledger head: #${status.ledgerCheck.head.id} ${status.ledgerCheck.head.hash}`);
  for (const warning of status.ledgerCheck.warnings) out.push(`⚠ ${warning}`);
  return `${out.join('\n')}\n`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const fit = (cell: string, i: number): string => (cell.length > widths[i] ? `${cell.slice(0, widths[i] - 1)}…` : cell.padEnd(widths[i]));
  return [header, ...rows].map((r) => `  ${r.map(fit).join('  ')}`.trimEnd());
}
