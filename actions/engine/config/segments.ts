/**
 * Segments: named sets of units (a user, account or request), declared once and named by
 * flags' rollout.segments. rollout.yaml declares the repository's; an environment file's
 * top-level segments: adds its own and replaces a repository segment of the same name
 * (production's "internal" may be a different list of accounts than staging's).
 *
 * The shape is the provider's Segment (packages/provider/src/definition.ts): what the
 * config declares is exactly what rollout.evaluate and the provider match on.
 */
import type { Scalar, Segment } from '../../../packages/provider/src/definition.ts';
import { clip } from './schema-errors.ts';
import type { PathToken } from './yaml-source.ts';

export type { Segment };

/** A segment as a file writes it; an attribute's value may be one scalar or a list. */
interface SegmentSpec {
  keys?: string[];
  attributes?: Record<string, Scalar | Scalar[]>;
}

type Report = (path: PathToken[], message: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The segments a file declares (top-level segments:), read leniently: the schema reports the shape. */
export function declaredSegmentNames(data: unknown): string[] {
  const segments = isRecord(data) ? data.segments : undefined;
  return isRecord(segments) ? Object.keys(segments) : [];
}

/** What the schema cannot say about a file's segments: one that names nobody. */
export function checkSegments(data: unknown, report: Report): void {
  const segments = isRecord(data) ? data.segments : undefined;
  if (!isRecord(segments)) return;
  for (const [name, spec] of Object.entries(segments)) {
    if (!isRecord(spec)) continue;
    const keys = Array.isArray(spec.keys) ? spec.keys.length : 0;
    const attributes = isRecord(spec.attributes) ? Object.keys(spec.attributes).length : 0;
    if (keys === 0 && attributes === 0) {
      report(['segments', name], `segment '${clip(name)}' names no unit: add keys: [user-1, user-2] (targeting keys) and/or attributes: { plan: [enterprise] } (every listed attribute must match).`);
    }
  }
}

/** The typed segments of a file the schema accepted. */
export function readSegments(data: unknown): Map<string, Segment> {
  const result = new Map<string, Segment>();
  const segments = isRecord(data) ? data.segments : undefined;
  if (!isRecord(segments)) return result;
  for (const [name, raw] of Object.entries(segments)) {
    const spec = raw as SegmentSpec;
    const segment: { name: string; keys?: string[]; attributes?: Record<string, Scalar[]> } = { name };
    if (spec.keys && spec.keys.length > 0) segment.keys = [...spec.keys];
    if (spec.attributes && Object.keys(spec.attributes).length > 0) {
      segment.attributes = Object.fromEntries(Object.entries(spec.attributes).map(([attribute, values]) => [attribute, Array.isArray(values) ? [...values] : [values]]));
    }
    result.set(name, segment);
  }
  return result;
}

/** The repository's segments with the environment's on top (same name: the environment's wins). */
export function mergeSegments(repository: ReadonlyMap<string, Segment>, environment: ReadonlyMap<string, Segment>): Map<string, Segment> {
  const merged = new Map(repository);
  for (const [name, segment] of environment) merged.set(name, segment);
  return merged;
}
