/** Comparing what a query returned with what a check expects, the way a person reads SQL output. */
import equal from 'fast-deep-equal';
import type { JsonValue } from '../config/model.ts';

/** pg returns bigint and numeric as strings: 6 equals '6', true equals true, dates compare by ISO text. */
export function sameValue(expected: JsonValue, actual: unknown): boolean {
  const normal = normalize(actual);
  if (equal(expected, normal)) return true;
  if (typeof expected === 'number' && typeof normal === 'string' && normal.trim() !== '' && Number(normal) === expected) return true;
  if (typeof expected === 'string' && (typeof normal === 'number' || typeof normal === 'boolean')) return String(normal) === expected;
  return false;
}

export function asNumber(value: unknown): number | undefined {
  const normal = normalize(value);
  if (typeof normal === 'number' && Number.isFinite(normal)) return normal;
  if (typeof normal === 'string' && normal.trim() !== '' && Number.isFinite(Number(normal))) return Number(normal);
  return undefined;
}

/** Make a pg value JSON-like: Date → ISO string, bigint → string, Buffer → hex. */
export function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  return value;
}

/** A short, single-line rendering of a value for reports. */
export function show(value: unknown, max = 200): string {
  const normal = normalize(value);
  let text: string;
  try {
    text = typeof normal === 'string' ? normal : (JSON.stringify(normal, (_k, v: unknown) => normalize(v)) ?? String(normal));
  } catch {
    text = String(normal);
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
