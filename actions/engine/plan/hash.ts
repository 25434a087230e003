import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The plan hash: sha256 over one line per record, each field canonical JSON (or a marker that
 * is not JSON, such as "=" or "-"), fields separated by tabs. Neither canonical JSON nor
 * Postgres's jsonb text ever holds a raw tab or newline, so the framing is unambiguous.
 * The planner feeds it (planner.ts): values it can take as text the database already wrote
 * canonically (jsonb output) cost nothing to hash, which at 10,000 flags is most of them.
 */
export class PlanHasher {
  private readonly hash = createHash('sha256');
  /** Records not yet hashed: one update per ~64 KiB, not one per flag (the digest of the concatenation is the same). */
  private pending = '';

  record(...fields: string[]): void {
    this.pending += `${fields.join('\t')}\n`;
    if (this.pending.length >= 65_536) this.flush();
  }

  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.hash.update(this.pending);
    this.pending = '';
  }
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, numbers and strings as
 * JSON.stringify writes them — the same text as RFC 8785 (JCS) for the values a plan holds
 * (test/plan/hash.test.ts checks it against the `canonicalize` package). Written with
 * JSON.stringify and a replacer that copies only objects whose keys are out of order, about
 * 3× faster than a recursive canonicalizer building strings in JavaScript. An object no key
 * order can be given to (JavaScript enumerates integer-like keys such as "10" first) sends
 * the whole value to `canonicalize`.
 */
export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(value, sortKeys) ?? 'null';
  } catch (error) {
    if (error !== UNORDERABLE) throw error;
    return canonicalize(value) ?? 'null';
  }
}

const UNORDERABLE = new Error('an object whose keys JavaScript will not enumerate in sorted order');

function sortKeys(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${value} has no JSON form`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (inOrder(keys)) return value;
  const first = keys[0];
  keys.sort();
  // A "__proto__" key (JSON.parse makes one) stays an ordinary key only on an object without
  // a prototype; such objects are slower to build and to write, so only then.
  const sorted: Record<string, unknown> = keys.includes('__proto__') ? (Object.create(null) as Record<string, unknown>) : {};
  for (const key of keys) sorted[key] = (value as Record<string, unknown>)[key];
  // JavaScript enumerates integer-like keys ("10", "9") first, whatever the order they were set
  // in; when there is one, it comes first in `value` too. Without one, `sorted` is in order.
  if (INTEGER_LIKE.test(first) && !inOrder(Object.keys(sorted))) throw UNORDERABLE;
  return sorted;
}

const INTEGER_LIKE = /^(?:0|[1-9][0-9]*)$/;

function inOrder(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

/**
 * The shortest plan hash an apply accepts: 12 hex characters (48 bits), the form the plan, the
 * PR comment and the job summary print. A shorter prefix would let an unrelated plan through
 * too often (one character matches one plan in sixteen).
 */
export const PLAN_HASH_MIN_LENGTH = 12;

const PLAN_HASH = new RegExp(`^[0-9a-f]{${PLAN_HASH_MIN_LENGTH},64}$`, 'i');

/** Why `text` cannot name a reviewed plan, or null when it can. The message says the expected form. */
export function planHashProblem(text: string): string | null {
  return PLAN_HASH.test(text) ? null : `Invalid plan hash '${text.slice(0, 70)}'. Expected ${PLAN_HASH_MIN_LENGTH} to 64 hexadecimal characters: the plan's hash as rollout plan, the PR comment or the plan action's plan-hash output gives it.`;
}

/** Whether the plan computed now is the reviewed one: `expected` is the full hash or a prefix of at least PLAN_HASH_MIN_LENGTH characters. */
export function matchesPlanHash(hash: string, expected: string): boolean {
  return planHashProblem(expected) === null && hash.startsWith(expected.toLowerCase());
}
