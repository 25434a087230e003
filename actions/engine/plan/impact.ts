/**
 * Who a flag change reaches: the blast radius a reviewer approves, rather than a YAML diff.
 *
 * A unit's served value depends on its bucket (0 … 100, flagd's fractional bucketing) and on
 * whether it is in one of the flag's segments. Canary buckets are nested (raising the percent
 * only adds units), so for units outside every segment the served value is a step function of
 * the bucket: "on" below the percent, "off" above it. Comparing the two step functions
 * interval by interval gives the exact share of units whose served value changes, and what
 * they switch between, without sampling. Units in segments are described by name: their
 * share of all units is not something the definitions know.
 *
 * Pure: the same rule as packages/provider/src/rule.ts, read from the other side.
 */
import equal from 'fast-deep-equal';
import type { FlagDefinition, JsonValue } from '../../../packages/provider/src/definition.ts';

/** What one group of units switches between. */
export type Switch = 'off-to-on' | 'on-to-off' | 'new-value' | 'new-off-value' | 'to-break-glass' | 'from-break-glass';

export interface ImpactPart {
  switch: Switch;
  /** Share of units outside the segments, in percent (0 … 100, two decimals). */
  share: number;
}

export interface Impact {
  /** Share of units outside every segment whose served value changes, in percent. */
  share: number;
  parts: ImpactPart[];
  /** Segments whose units' served value changes, by name. */
  segments: { names: string[]; switch: Switch } | null;
  /** shadow: the value computed beside the served one changes, nothing served does. */
  shadowOnly: boolean;
  /** One sentence for the plan. */
  summary: string;
}

type Side = 'on' | 'off' | 'break-glass';

interface Served {
  side: Side;
  value: JsonValue;
}

/** What a unit outside every segment with this bucket is served; undefined: the flag does not exist. */
function servedOutside(d: FlagDefinition | undefined, bucket: number): Served | undefined {
  if (!d) return undefined;
  if (d.override !== undefined) return { side: 'break-glass', value: d.override };
  return bucket < onShare(d) ? { side: 'on', value: d.value } : { side: 'off', value: d.offValue };
}

/** What a unit in the flag's segments is served. */
function servedInside(d: FlagDefinition | undefined): Served | undefined {
  if (!d) return undefined;
  if (d.override !== undefined) return { side: 'break-glass', value: d.override };
  if (d.stage === 'dark' || d.stage === 'canary') return d.segments.length > 0 ? { side: 'on', value: d.value } : { side: 'off', value: d.offValue };
  return onShare(d) === 100 ? { side: 'on', value: d.value } : { side: 'off', value: d.offValue };
}

/** Share of units outside the segments that get value (flagd resolution: hundredths of a percent). */
function onShare(d: FlagDefinition): number {
  switch (d.stage) {
    case null:
    case 'full':
      return 100;
    case 'canary':
      return Math.round(d.percent * 100) / 100;
    default:
      return 0;
  }
}

function switchOf(before: Served | undefined, after: Served | undefined): Switch | null {
  if (!before || !after) return null; // an added or removed flag: the plan says so already
  if (equal(before.value, after.value)) return null;
  if (after.side === 'break-glass') return 'to-break-glass';
  if (before.side === 'break-glass') return 'from-break-glass';
  if (before.side === 'off' && after.side === 'on') return 'off-to-on';
  if (before.side === 'on' && after.side === 'off') return 'on-to-off';
  return before.side === 'on' ? 'new-value' : 'new-off-value';
}

const round = (n: number): number => Math.round(n * 100) / 100;

export function impactOf(before: FlagDefinition | undefined, after: FlagDefinition | undefined): Impact {
  if (!before && after) return reachOfNew(after);
  const cuts = [...new Set([0, 100, ...[before, after].flatMap((d) => (d && d.override === undefined ? [onShare(d)] : []))])].sort((a, b) => a - b);
  const shares = new Map<Switch, number>();
  for (let i = 0; i + 1 < cuts.length; i++) {
    const width = cuts[i + 1] - cuts[i];
    const change = switchOf(servedOutside(before, cuts[i]), servedOutside(after, cuts[i]));
    if (change && width > 0) shares.set(change, (shares.get(change) ?? 0) + width);
  }
  const parts = [...shares].map(([change, share]) => ({ switch: change, share: round(share) }));
  const share = round(parts.reduce((sum, p) => sum + p.share, 0));
  const names = [...new Set([...(before?.segments ?? []), ...(after?.segments ?? [])].map((s) => s.name))];
  const insideSwitch = names.length > 0 ? switchOf(servedInside(before), servedInside(after)) : null;
  const segments = insideSwitch ? { names, switch: insideSwitch } : null;
  const shadowOnly = share === 0 && !segments && after?.stage === 'shadow' && before?.stage === 'shadow' && !equal(before.value, after.value);
  return { share, parts, segments, shadowOnly, summary: summarise(parts, segments, shadowOnly, before, after) };
}

/**
 * A new flag changes nothing anyone was served, but a reviewer still approves who it reaches:
 * said only where that is not simply every unit (a staged flag short of full).
 */
function reachOfNew(d: FlagDefinition): Impact {
  const none: Impact = { share: 0, parts: [], segments: null, shadowOnly: false, summary: '' };
  if (d.override !== undefined) return { ...none, share: 100, summary: 'every unit will get the break-glass value' };
  const share = onShare(d);
  if (d.stage === null || share === 100) return { ...none, share: 100 };
  const names = d.stage === 'dark' || d.stage === 'canary' ? d.segments.map((s) => s.name) : [];
  const inSegments = names.length > 0 ? `units in ${names.map((n) => `'${n}'`).join(', ')}` : '';
  const reached = [inSegments, share > 0 ? `${percent(share)} of ${inSegments ? 'other ' : ''}units` : ''].filter(Boolean);
  const summary = d.stage === 'shadow'
    ? 'every unit will get the off value; shadow computes the value beside it'
    : reached.length === 0
      ? 'every unit will get the off value'
      : `${reached.join(' and ')} will get the value; every other unit will get the off value`;
  return { ...none, share, segments: names.length > 0 ? { names, switch: 'off-to-on' } : null, shadowOnly: d.stage === 'shadow', summary };
}

const PHRASES: Record<Switch, string> = {
  'off-to-on': 'switch from the off value to the value',
  'on-to-off': 'switch back to the off value',
  'new-value': 'see the new value',
  'new-off-value': 'see the new off value',
  'to-break-glass': 'get the break-glass value',
  'from-break-glass': 'leave the break-glass value',
};

const percent = (n: number): string => `${n}%`;

function summarise(parts: ImpactPart[], segments: Impact['segments'], shadowOnly: boolean, before: FlagDefinition | undefined, after: FlagDefinition | undefined): string {
  if (!before || !after) return '';
  const everyone = parts.length === 1 && parts[0].share === 100 && (segments === null || segments.switch === parts[0].switch);
  if (everyone) return `every unit will ${PHRASES[parts[0].switch]}`;
  const sentences: string[] = [];
  const hasSegments = (before.segments.length > 0 || after.segments.length > 0);
  const units = hasSegments ? 'of other units' : 'of units';
  for (const part of parts) sentences.push(`${percent(part.share)} ${units} ${PHRASES[part.switch]}`);
  if (segments) sentences.unshift(`units in ${segments.names.map((n) => `'${n}'`).join(', ')} ${PHRASES[segments.switch]}`);
  if (sentences.length === 0) return shadowOnly ? 'no unit is served anything new: shadow computes the new value beside the off value' : 'no unit is served anything new';
  if (segments && parts.length === 0) sentences.push('no other unit is served anything new');
  return sentences.join('; ');
}
