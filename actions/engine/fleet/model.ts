/**
 * A fleet environment as loaded from its file: where its targets come from and how they
 * are rolled out in waves. One target is one database with its own history, flag store
 * and ledger; everything else (migrations, flags, checks, monitors) is the environment's.
 */
import type { DatabaseSpec } from '../config/model.ts';

/** The database spec of one target: what a single-database environment has in `database:`. */
export type TargetDatabase = Exclude<DatabaseSpec, { kind: 'fleet' }>;

export interface FleetTarget {
  name: string;
  database: TargetDatabase;
  labels: Record<string, string>;
}

/** Where the list of targets is: in the file, in a JSON file, or in a control database. */
export type TargetSource =
  | { kind: 'list'; targets: FleetTarget[] }
  | { kind: 'file'; file: string }
  | { kind: 'query'; sql: string; controlUrlEnv: string };

export type WaveSelector =
  | { kind: 'names'; names: string[] }
  | { kind: 'labels'; labels: Record<string, string> }
  | { kind: 'percent'; percent: number }
  /** Every target no earlier wave took. */
  | { kind: 'rest' };

export interface WaveSpec {
  name: string;
  select: WaveSelector;
  /** How long this wave holds before the next one may start. */
  soakMs: number;
  budget: FailureBudget;
}

export interface FailureBudget {
  maxFailures?: number;
  /** A share of the wave's targets, 0 to 1. */
  maxFailureRate?: number;
}

export interface FleetSpec {
  source: TargetSource;
  /** Naming convention for a target's URL secret, with {NAME} (e.g. TENANT_{NAME}_URL). */
  urlEnvTemplate?: string;
  waves: WaveSpec[];
}

/** The wave every target no declared wave selects falls into. */
export const REST_WAVE = 'rest';
