/**
 * What a unit sees, read the way services read it after a real `rollout apply`: the
 * definitions of rollout.flag_definitions loaded with the provider package's own query and
 * evaluated by its in-process evaluator (packages/provider/src), and a plain read of the value
 * table a service that knows nothing of stages would do. The seeds' walk tests assert both.
 */
import type { JsonValue } from '@openfeature/server-sdk';
import type { DefinitionRow } from '../../packages/provider/src/definition.ts';
import { DefinitionSet } from '../../packages/provider/src/evaluator.ts';
import { SELECT_ALL } from '../../packages/provider/src/queries.ts';
import type { UnitContext } from '../../packages/provider/src/rule.ts';
import type { ExampleRepo } from './support.ts';

export interface Seen {
  value: JsonValue;
  variant: string | undefined;
  reason: string | undefined;
  /** shadow: the value beside the served one (flag metadata), parsed. */
  shadowValue?: JsonValue;
  segment?: string;
}

export interface Serving {
  /** What one unit is served for `key`, through the provider's evaluator. */
  see(key: string, unit: UnitContext): Seen;
  /** The targeting keys among `keys` that are served `value` (variant on). */
  servedValue(key: string, keys: readonly string[], attributes?: Record<string, unknown>): string[];
  /** The value column of the value table for `key`: what a plain read sees. */
  plain(key: string): JsonValue | undefined;
  /** The stage column of the definition (null: a plain flag). */
  stage(key: string): string | null | undefined;
}

/** Read the definitions and the value table of `environment` once, after an apply. */
export async function readServing(repo: ExampleRepo, environment: string, table = 'public.feature_flags'): Promise<Serving> {
  const rows = await repo.query<DefinitionRow & Record<string, unknown>>(environment, SELECT_ALL);
  const definitions = new DefinitionSet();
  definitions.replaceAll(rows);
  const values = new Map((await repo.query<{ key: string; value: JsonValue }>(environment, `SELECT key, value FROM ${table}`)).map((r) => [r.key, r.value]));
  const stages = new Map(rows.map((r) => [r.key, r.stage]));
  const see = (key: string, unit: UnitContext): Seen => {
    // The caller's default is a marker no definition holds: an error answer would show as it.
    const resolved = definitions.resolve('object', key, { unresolved: true }, unit, { stale: false });
    const metadata = resolved.flagMetadata ?? {};
    return {
      value: resolved.value,
      variant: resolved.variant,
      reason: resolved.reason,
      ...(typeof metadata.shadowValue === 'string' ? { shadowValue: JSON.parse(metadata.shadowValue) as JsonValue } : {}),
      ...(typeof metadata.segment === 'string' ? { segment: metadata.segment } : {}),
    };
  };
  return {
    see,
    servedValue: (key, keys, attributes = {}) => keys.filter((targetingKey) => see(key, { ...attributes, targetingKey }).variant === 'on'),
    plain: (key) => values.get(key),
    stage: (key) => stages.get(key),
  };
}

/** `n` unit ids, the same on every run. */
export const unitIds = (n: number, prefix = 'user-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/**
 * The targeting keys among `keys` that rollout.evaluate, the SQL function apply installs, serves
 * `value` to (variant on), in one query: a service with only a database connection. The walks
 * compare it with the provider's answer at every stage.
 */
export async function servedValueInSql(repo: ExampleRepo, environment: string, key: string, keys: readonly string[], attributes: Record<string, unknown> = {}): Promise<string[]> {
  const rows = await repo.query<{ unit: string; variant: string }>(
    environment,
    `SELECT u.unit, e.variant FROM unnest($2::text[]) WITH ORDINALITY AS u(unit, n), LATERAL rollout.evaluate($1, u.unit, $3::jsonb) e ORDER BY u.n`,
    [key, keys, JSON.stringify(attributes)],
  );
  return rows.filter((r) => r.variant === 'on').map((r) => r.unit);
}
