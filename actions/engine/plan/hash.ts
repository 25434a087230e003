import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** sha256 of the RFC 8785 canonical JSON of the plan's inputs: key order never changes it. */
export function planHash(inputs: unknown): string {
  const canonical = (canonicalize)(inputs) ?? 'null';
  return createHash('sha256').update(canonical).digest('hex');
}
