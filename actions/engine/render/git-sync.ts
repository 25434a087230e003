/**
 * How live state stands against Git, beside a verdict that is about something else (monitors,
 * an apply that had nothing to do): "healthy" or "matches Git" must not hide a flag break-glass
 * or an auto-rollback holds, or one changed outside Git (issue 13, defect 8).
 */
import { compactJson } from '../plan/json-diff.ts';
import type { FlagChange, Plan } from '../plan/types.ts';
import { describePosition } from './plan.ts';

/** The branch of the PR that records a hold in Git (the health action opens it; the CLI names it). */
export function reconcileBranch(kind: 'break-glass' | 'auto-rollback', environment: string, flag: string): string {
  return `rollout/${kind}-${environment}-${flag.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}

export interface GitSync {
  /** True when live equals Git: no hold and no drift. */
  inSync: boolean;
  /** "1 flag held by break-glass, 1 drifted" ('' when in sync). */
  summary: string;
  /** One sentence per held or drifted flag: what, why, and how Git catches up. */
  lines: string[];
}

export function gitSync(plan: Plan): GitSync {
  const held = plan.flags.filter((f) => f.action === 'hold');
  const drifted = plan.flags.filter((f) => f.drift);
  const lines = [...held.map((f) => holdSentence(f, plan)), ...drifted.map((f) => driftSentence(f, plan))];
  const parts: string[] = [];
  const byBreakGlass = held.filter((f) => !f.autoRollback).length;
  const byRollback = held.length - byBreakGlass;
  const flags = (n: number): string => `${n} flag${n === 1 ? '' : 's'}`;
  if (byBreakGlass) parts.push(`${flags(byBreakGlass)} held by break-glass`);
  if (byRollback) parts.push(`${flags(byRollback)} held by auto-rollback`);
  if (drifted.length) parts.push(`${flags(drifted.length)} drifted (changed outside Git)`);
  return { inSync: lines.length === 0, summary: parts.join(', '), lines };
}

function holdSentence(change: FlagChange, plan: Plan): string {
  if (change.autoRollback) {
    const at = describePosition(change.from);
    return (
      `${change.key} is held at ${at} by auto-rollback (ledger #${change.autoRollback.ledgerId}: an exit criterion breached); ${plan.file} says ${describePosition(change.to)}. ` +
      `Reconcile: merge the PR that sets its rollout to ${at} in ${plan.file} (an auto-rollback by the health action opens it on branch ${reconcileBranch('auto-rollback', plan.environment, change.key)}).`
    );
  }
  return (
    `${change.key} is held at ${compactJson(change.before)} by break-glass (ledger #${change.breakGlass?.ledgerId}); ${plan.file} says ${compactJson(change.after)}, and apply keeps the live value until Git says the same. ` +
    `Reconcile: merge the PR that puts ${compactJson(change.before)} in ${plan.file} (a break-glass by the health action opens it on branch ${reconcileBranch('break-glass', plan.environment, change.key)}; after rollout kill, open it yourself).`
  );
}

function driftSentence(change: FlagChange, plan: Plan): string {
  const live = compactJson(change.drift?.live ?? undefined);
  const recorded = compactJson(change.drift?.recorded ?? undefined);
  return `${change.key} drifted: live is ${live}, but rollout last wrote ${recorded} (changed outside Git). The next apply writes what ${plan.file} says; to keep the live value, put it in ${plan.file}.`;
}
