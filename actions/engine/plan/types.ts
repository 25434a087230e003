import type { JsonValue } from '../config/model.ts';
import type { ServingSpec } from '../serving/definitions.ts';
import type { StoredPosition } from '../stages/ladder.ts';
import type { DiffLine } from './json-diff.ts';

/** Where a flag stands: stages/ladder.ts's StoredPosition (null stage for a plain value without a rollout). */
export type { StoredPosition } from '../stages/ladder.ts';

export interface LintFinding {
  rule: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  line?: number;
  column?: number;
  /** The linter's advice on how to fix it. */
  help?: string;
  /** Why it blocks no one, when it does not (the table is created in the same pending set). */
  lowRisk?: string;
}

export interface PendingMigration {
  version: string;
  name: string;
  file: string;
  checksum: string;
  transactional: boolean;
  findings: LintFinding[];
}

export interface MigrationPlanPart {
  appliedCount: number;
  pending: PendingMigration[];
  /** Reasons apply cannot proceed (changed or missing files, a failed earlier run, …). */
  blockers: string[];
  /** What the migrations' own checks warn about without blocking (a reformatted applied file, an order other tools would not use); absent when none. */
  warnings?: string[];
}

export type { Verdict as GateVerdict } from '../stages/gates.ts';
import type { Verdict as GateVerdict } from '../stages/gates.ts';

export type FlagAction = 'add' | 'change' | 'remove' | 'hold' | 'reconcile';

export interface FlagChange {
  key: string;
  /**
   * hold: live holds a break-glass value or an auto-rollback position that Git does not have yet; apply leaves it.
   * reconcile: Git now has the break-glass value; apply records that, and Git owns the flag again.
   */
  action: FlagAction;
  before?: JsonValue;
  after?: JsonValue;
  valueChanged: boolean;
  diff: DiffLine[];
  from: StoredPosition | null;
  to: StoredPosition | null;
  stageChanged: boolean;
  killSwitch: boolean;
  /** Git's off value, segments and kill-switch mark (absent on a removal): what apply stores beside the value. */
  serving?: ServingSpec;
  /** Present when the stored serving part differs from Git's: what it was (null: nothing stored yet). */
  servingBefore?: ServingSpec | null;
  /** Present when the change moves what a plain read of the value table returns (never more than the stage allows). */
  plain?: { before?: JsonValue; after: JsonValue };
  /** Who is affected: the share of units whose served value changes, and one sentence (plan/impact.ts). Absent on a hold. */
  impact?: { share: number; summary: string };
  /** Live differs from what rollout last recorded: someone changed it outside Git. */
  drift?: { recorded: JsonValue | null; live: JsonValue | null };
  breakGlass?: { ledgerId: number };
  /** hold: an exit criterion's breach moved the flag back (ledger kind auto-rollback); Git must record where it is. */
  autoRollback?: { ledgerId: number };
  gate?: GateVerdict;
}

export interface Plan {
  format: 1;
  environment: string;
  file: string;
  commit: string | null;
  flagTable: string;
  hash: string;
  migrations: MigrationPlanPart;
  flags: FlagChange[];
  /** Live keys that Git does not have and rollout never managed: shown, never touched. */
  unmanaged: string[];
  summary: { add: number; change: number; remove: number; hold: number; reconcile: number; drift: number; migrations: number; blocked: boolean; refused: number };
  /** True when apply would change nothing. */
  noop: boolean;
  /** Warnings about the environment's own file (e.g. a flag ahead of its upstream), with their positions; outside the hash. */
  fileWarnings?: string[];
  /** The ledger's head and what is wrong with its chain or triggers (read by readPlan; outside the hash). */
  ledger?: LedgerCheck;
}

export interface LedgerCheck {
  head: { id: number; hash: string } | null;
  /** One line per problem: a broken hash chain, missing or disabled append-only triggers. */
  warnings: string[];
}
