/**
 * The desired state of environments, as loaded from environments/<name>.yaml.
 * Field names are camelCase here; the YAML uses snake_case (see
 * contracts/environment.schema.json for the file format).
 */
import type { Segment } from '../../../packages/provider/src/definition.ts';
import type { FleetSpec } from '../fleet/model.ts';
import type { Stage } from '../stages/ladder.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The platform a database stands for (database.platform): plain Postgres, or Supabase, whose
 * projects come with roles, schemas (auth, storage, extensions) and a publication that
 * migrations written for it use. Only an embedded database is given them (db/platform-supabase.ts).
 */
export type Platform = 'postgres' | 'supabase';

/** Where an environment's live state is. */
export type DatabaseSpec =
  | { kind: 'url'; urlEnv: string; readonlyUrlEnv?: string }
  /** `platform` absent: plain Postgres. */
  | { kind: 'embedded'; dir: string; platform?: Platform }
  /** A fleet (targets:): each target has its own database; see fleet/model.ts. */
  | { kind: 'fleet' };

/** The role checks and monitors run as (database.checks_role). */
export interface ChecksRoleSettings {
  name: string;
  /** Apply creates and maintains it (default); false: a DBA did, apply only relies on it. */
  manage: boolean;
  /** Schemas it may read, besides rollout's own and the flag store's. */
  schemas: string[];
}

export const DEFAULT_CHECKS_ROLE: ChecksRoleSettings = { name: 'rollout_checks', manage: true, schemas: ['public'] };

export interface MigrationSettings {
  /** Repository-relative folder of migrations. */
  directory: string;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  advisoryLock: { mode: 'wait' | 'fail'; timeoutMs: number };
  backup?: { directory: string };
  allowOutOfOrder: boolean;
  allowMissing: boolean;
  /**
   * When migration commits must reach disk: 'run' waits for one WAL flush at the end of the
   * run (each file commits with synchronous_commit off); 'file' waits at every file's commit.
   */
  flush: 'run' | 'file';
}

export interface FlagSpec {
  key: string;
  /** What every unit gets; with a rollout, what units in the rollout get. */
  value: JsonValue;
  /** With a rollout: what units outside it get (off_value; validate requires it). */
  offValue?: JsonValue;
  contract?: string;
  killSwitch: boolean;
  owner?: string;
  description?: string;
  expires?: string;
  dependsOn: string[];
  /** depends_on `{ flag, for }`: dependency key → how long (a duration) it must have been on before this flag moves forward. */
  dependencySoaks?: ReadonlyMap<string, string>;
  /** segments: names in Environment.segments whose units are in the rollout (dark, canary). */
  rollout?: { stage: Stage; percent?: number; segments?: string[] };
  /** exit_criteria: the monitors this flag keeps healthy at a stage before moving on. */
  exitCriteria?: ExitCriteriaSpec;
}

/** exit_criteria, of a flag or of the whole environment (config/exit-criteria.ts resolves them). */
export interface ExitCriteriaSpec {
  dark?: string[];
  shadow?: string[];
  canary?: string[];
  /** Watched after the move to full: a breach moves the flag back (there is nothing forward to gate). */
  full?: string[];
  /** Every stage below full. */
  all?: string[];
  /** Where a breach moves the flag: one rung back, or off. */
  rollbackTo?: 'previous' | 'off';
}

/** Checks and monitors are kept as written (snake_case) and interpreted by their runners. */
export type CheckSpec = Record<string, JsonValue> & { name: string };
export type MonitorSpec = Record<string, JsonValue> & { name: string };

export interface Environment {
  name: string;
  /** Repository-relative path of the file. */
  file: string;
  description?: string;
  database: DatabaseSpec;
  /** database.checks_role; absent means DEFAULT_CHECKS_ROLE. */
  checksRole?: ChecksRoleSettings;
  promotesTo?: string;
  /** Every environment promotes_to names (promotesTo is the first); absent when it names one or none. */
  promotesToAll?: string[];
  /** Qualified table of live flags; undefined means the tool's own rollout.flags. */
  flagTable?: string;
  /** `export:`: the file apply and kill rewrite with the live definitions (repository-relative). */
  export?: { file: string; format: 'flagd' };
  migrations: MigrationSettings;
  flags: Map<string, FlagSpec>;
  /** Named sets of units: rollout.yaml's, with this file's segments: on top (config/segments.ts); loaded files always have it. */
  segments?: Map<string, Segment>;
  checks: CheckSpec[];
  monitors: MonitorSpec[];
  /** Top-level exit_criteria: for every flag with a rollout. */
  exitCriteria?: ExitCriteriaSpec;
  /** Present for a fleet environment (targets: or targets_from: instead of database:). */
  fleet?: FleetSpec;
}

export const DEFAULT_MIGRATION_SETTINGS: MigrationSettings = {
  directory: 'migrations',
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 15 * 60_000,
  advisoryLock: { mode: 'wait', timeoutMs: 60_000 },
  allowOutOfOrder: false,
  allowMissing: false,
  flush: 'run',
};
