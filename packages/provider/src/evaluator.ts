/**
 * The in-process evaluator: the parsed definitions of one environment, and how one typed
 * OpenFeature resolution is answered from them. No I/O: the sync (sync.ts) replaces
 * definitions, the provider (provider.ts) asks. Every answer is total — a missing flag, a
 * type the caller did not expect, a row that could not be parsed and even a bug become
 * the caller's default with an error code, never a throw (OpenFeature spec 2.2.7; the
 * SDK turns errorCode into the default value).
 */
import { ErrorCode, StandardResolutionReasons, type FlagMetadata, type FlagValueType, type JsonValue, type ResolutionDetails } from '@openfeature/server-sdk';
import { isProblem, parseDefinition, type DefinitionProblem, type DefinitionRow, type FlagDefinition } from './definition.ts';
import { evaluate, type UnitContext } from './rule.ts';

type Entry = FlagDefinition | DefinitionProblem;

/** A parsed definition with what every answer for it shares, computed once per write, not per evaluation. */
interface Compiled {
  definition: FlagDefinition;
  /** flagMetadata without a segment (and, in shadow, with shadowValue). */
  metadata: FlagMetadata;
  /** flagMetadata per segment that let a unit in, made on first use. */
  bySegment: Map<string, FlagMetadata>;
}

/** What a typed resolver may return: the OpenFeature flag value types. */
export type FlagValueOf<T extends FlagValueType> = T extends 'boolean' ? boolean : T extends 'string' ? string : T extends 'number' ? number : JsonValue;

export interface ResolveOptions {
  /** The definitions may be out of date (the database is unreachable): answer with reason STALE. */
  stale: boolean;
}

/** Which OpenFeature type a JSON value has; null has none (no typed resolver can return it). */
export function flagTypeOf(value: JsonValue): FlagValueType | undefined {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'object':
      return value === null ? undefined : 'object';
    default:
      return undefined;
  }
}

export class DefinitionSet {
  private readonly entries = new Map<string, Compiled | DefinitionProblem>();
  /** Per key, the row as read, to tell a changed definition from a re-read of the same one. */
  private readonly fingerprints = new Map<string, string>();
  /** Per key, the row's ledger_id (also for rows that could not be parsed). */
  private readonly ledgerIds = new Map<string, number>();
  private loaded = false;

  /** Whether a full read has ever succeeded: before it, every answer is PROVIDER_NOT_READY. */
  get ready(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** The definition of `key` as parsed, or why it could not be (tests and diagnostics). */
  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || unreadable(entry) ? entry : entry.definition;
  }

  /** What SELECT_SUMMARY answers when the database holds exactly these rows: "count/sum of ledger_id". */
  summary(): string {
    let sum = 0n;
    for (const id of this.ledgerIds.values()) sum += BigInt(id);
    return `${this.entries.size}/${sum}`;
  }

  /** Replace everything with a full read; returns the keys that were added, changed or removed. */
  replaceAll(rows: readonly DefinitionRow[]): string[] {
    const seen = new Set<string>();
    const changed: string[] = [];
    for (const row of rows) {
      seen.add(row.key);
      if (this.put(row)) changed.push(row.key);
    }
    for (const key of [...this.entries.keys()]) {
      if (!seen.has(key)) {
        this.remove(key);
        changed.push(key);
      }
    }
    this.loaded = true;
    return changed;
  }

  /** Apply a re-read of some keys: `rows` is what exists of them now; a key without a row is gone. */
  replaceKeys(keys: readonly string[], rows: readonly DefinitionRow[]): string[] {
    const changed: string[] = [];
    const found = new Set<string>();
    for (const row of rows) {
      found.add(row.key);
      if (this.put(row)) changed.push(row.key);
    }
    for (const key of new Set(keys)) {
      if (!found.has(key) && this.entries.has(key)) {
        this.remove(key);
        changed.push(key);
      }
    }
    return changed;
  }

  resolve<T extends FlagValueType>(type: T, key: string, defaultValue: FlagValueOf<T>, context: UnitContext, options: ResolveOptions): ResolutionDetails<FlagValueOf<T>> {
    try {
      return this.resolveUnsafe(type, key, defaultValue, context, options);
    } catch (error) {
      // The rule is total for every definition parseDefinition accepts; this is a bug's safety net.
      return failure(defaultValue, ErrorCode.GENERAL, `rollout could not evaluate flag '${key}': ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private resolveUnsafe<T extends FlagValueType>(type: T, key: string, defaultValue: FlagValueOf<T>, context: UnitContext, options: ResolveOptions): ResolutionDetails<FlagValueOf<T>> {
    if (!this.loaded) return failure(defaultValue, ErrorCode.PROVIDER_NOT_READY, 'rollout has not read the flag definitions yet (the database has not answered)');
    const entry = this.entries.get(key);
    if (entry === undefined) return failure(defaultValue, ErrorCode.FLAG_NOT_FOUND, `flag '${key}' is not defined in rollout.flag_definitions`);
    if (unreadable(entry)) return failure(defaultValue, ErrorCode.PARSE_ERROR, entry.problem);
    const resolution = evaluate(entry.definition, context);
    const flagMetadata = resolution.segment === undefined ? entry.metadata : segmentMetadata(entry, resolution.segment);
    const actual = flagTypeOf(resolution.value);
    if (actual !== type) {
      return failure(defaultValue, ErrorCode.TYPE_MISMATCH, `flag '${key}' is ${actual === undefined ? 'null' : `of type ${actual}`} for this unit, not ${type}`, flagMetadata);
    }
    return { value: resolution.value as FlagValueOf<T>, variant: resolution.variant, reason: options.stale ? StandardResolutionReasons.STALE : resolution.reason, flagMetadata };
  }

  /** Store one row; true when it differs from what was stored under its key. */
  private put(row: DefinitionRow): boolean {
    const fingerprint = fingerprintOf(row);
    if (this.fingerprints.get(row.key) === fingerprint) return false;
    this.fingerprints.set(row.key, fingerprint);
    const ledgerId = Number(row.ledger_id);
    if (row.ledger_id !== null && row.ledger_id !== undefined && Number.isFinite(ledgerId)) this.ledgerIds.set(row.key, ledgerId);
    else this.ledgerIds.delete(row.key);
    const parsed = parseDefinition(row);
    this.entries.set(row.key, isProblem(parsed) ? parsed : { definition: parsed, metadata: metadataOf(parsed), bySegment: new Map() });
    return true;
  }

  private remove(key: string): void {
    this.entries.delete(key);
    this.fingerprints.delete(key);
    this.ledgerIds.delete(key);
  }
}

/**
 * The row as text. jsonb comes back from Postgres with its keys in one canonical order,
 * so the same definition always gives the same text.
 */
function fingerprintOf(row: DefinitionRow): string {
  return JSON.stringify([row.value, row.off_value, row.stage, row.percent === null ? null : String(row.percent), row.segments, row.override, row.kill_switch, row.ledger_id === null ? null : String(row.ledger_id)]);
}

/**
 * Flag metadata (values are strings, numbers or booleans only: spec 2.2.10). Frozen and shared
 * by every answer for the definition: the SDK freezes what it hands out anyway.
 */
function metadataOf(definition: FlagDefinition, segment?: string): FlagMetadata {
  const metadata: FlagMetadata = { percent: definition.percent, killSwitch: definition.killSwitch };
  if (definition.stage !== null) metadata.stage = definition.stage;
  if (definition.ledgerId !== null) metadata.ledgerId = definition.ledgerId;
  // Only shadow answers carry the value beside the off value (rule.ts), and none of them has a segment.
  if (definition.stage === 'shadow' && definition.override === undefined) metadata.shadowValue = JSON.stringify(definition.value);
  if (segment !== undefined) metadata.segment = segment;
  return Object.freeze(metadata);
}

const unreadable = (entry: Compiled | DefinitionProblem): entry is DefinitionProblem => 'problem' in entry;

function segmentMetadata(entry: Compiled, segment: string): FlagMetadata {
  let metadata = entry.bySegment.get(segment);
  if (metadata === undefined) {
    metadata = metadataOf(entry.definition, segment);
    entry.bySegment.set(segment, metadata);
  }
  return metadata;
}

function failure<T>(defaultValue: T, errorCode: ErrorCode, errorMessage: string, flagMetadata?: FlagMetadata): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage, ...(flagMetadata ? { flagMetadata } : {}) };
}
