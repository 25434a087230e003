/**
 * Which targets each wave holds: a pure function of the targets and the waves as written.
 * A wave selects among the targets no earlier wave took; a percentage takes that share
 * (rounded up) in an order fixed by a hash of each name, so that adding a tenant does not
 * reshuffle the others. Targets no wave selects form a last wave, rest.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { REST_WAVE, type FailureBudget, type FleetTarget, type WaveSpec } from './model.ts';

export interface Wave {
  name: string;
  soakMs: number;
  budget: FailureBudget;
  targets: FleetTarget[];
}

export function assignWaves(environment: string, targets: readonly FleetTarget[], specs: readonly WaveSpec[]): Wave[] {
  let remaining = [...targets];
  const waves: Wave[] = [];
  for (const spec of specs) {
    const chosen = select(environment, remaining, spec);
    const taken = new Set(chosen.map((t) => t.name));
    remaining = remaining.filter((t) => !taken.has(t.name));
    // Kept in the fleet's order, whatever order selected them.
    waves.push({ name: spec.name, soakMs: spec.soakMs, budget: spec.budget, targets: targets.filter((t) => taken.has(t.name)) });
  }
  if (remaining.length > 0 || waves.length === 0) waves.push({ name: REST_WAVE, soakMs: 0, budget: {}, targets: remaining });
  return waves;
}

function select(environment: string, remaining: readonly FleetTarget[], spec: WaveSpec): FleetTarget[] {
  const s = spec.select;
  switch (s.kind) {
    case 'names':
      return remaining.filter((t) => s.names.includes(t.name));
    case 'labels':
      return remaining.filter((t) => Object.entries(s.labels).every(([label, value]) => t.labels[label] === value));
    case 'percent': {
      const count = Math.ceil((remaining.length * s.percent) / 100);
      const rank = (t: FleetTarget): string => createHash('sha256').update(`${environment}\0${t.name}`).digest('hex');
      return [...remaining].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0)).slice(0, count);
    }
    case 'rest':
      return [...remaining];
  }
}

/** True when this many failures among this many targets is more than the wave allows. */
export function overBudget(budget: FailureBudget, failures: number, size: number): boolean {
  if (budget.maxFailures === undefined && budget.maxFailureRate === undefined) return failures > 0;
  if (budget.maxFailures !== undefined && failures > budget.maxFailures) return true;
  return budget.maxFailureRate !== undefined && size > 0 && failures / size > budget.maxFailureRate;
}

export function describeBudget(budget: FailureBudget): string {
  const parts: string[] = [];
  if (budget.maxFailures !== undefined) parts.push(`at most ${budget.maxFailures} failed`);
  if (budget.maxFailureRate !== undefined) parts.push(`at most ${Math.round(budget.maxFailureRate * 1000) / 10} % failed`);
  return parts.length ? parts.join(' and ') : 'no failures';
}

export interface Shard {
  index: number;
  count: number;
}

/** "2/8" → shard 2 of 8 (1-based, as people count jobs). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) throw new UsageError(`Invalid shard '${text}'. Expected I/N with 1 ≤ I ≤ N, e.g. --shard 2/8.`);
  return { index, count };
}

/** Shard i of n: every n-th target of the list, so shards differ in size by one at most. */
export function shardOf<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, i) => i % shard.count === shard.index - 1);
}
