/**
 * What a flag's file must say so that every unit's value is decided (docs/serving.md):
 * a staged flag names what units outside the rollout get (off_value), and the segments
 * its rollout names exist. The contract check of off_value is environment-file.ts's,
 * beside value's.
 */
import type { Problem } from '../problems.ts';
import { clip } from './schema-errors.ts';
import { suggestion } from './suggest.ts';
import type { PathToken } from './yaml-source.ts';

type Report = (path: PathToken[], message: string, options?: { key?: boolean; severity?: Problem['severity'] }) => void;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkServing(key: string, flag: Record<string, unknown>, segmentNames: ReadonlySet<string>, report: Report): void {
  const at = ['flags', key];
  const name = clip(key);
  const rollout = flag.rollout;
  if (!isRecord(rollout)) {
    if ('off_value' in flag) {
      report([...at, 'off_value'], `flag '${name}' has no rollout, so every unit gets value and off_value is never served; remove off_value, or add rollout: { stage: off }.`, {
        key: true,
        severity: 'warning',
      });
    }
    return;
  }
  if (!('off_value' in flag)) {
    report(
      [...at, 'rollout'],
      `flag '${name}' has a rollout but no off_value: add off_value: ${exampleOffValue(flag.value)} beside value. It is what units outside the rollout get, and what the flag table holds until the flag is full; the contract checks it like value.`,
      { key: true },
    );
  }
  const segments = Array.isArray(rollout.segments) ? rollout.segments : [];
  segments.forEach((segment, index) => {
    if (typeof segment !== 'string' || segmentNames.has(segment)) return;
    const declared = segmentNames.size > 0 ? ` Declared: ${[...segmentNames].sort().join(', ')}.` : '';
    report(
      [...at, 'rollout', 'segments', index],
      `flag '${name}' names segment '${clip(segment)}', which is not declared${suggestion(segment, segmentNames)} Declare it under segments: in this file or in rollout.yaml, e.g. segments: { ${clip(segment)}: { keys: [user-1] } }.${declared}`,
    );
  });
  if (rollout.stage === 'dark' && segments.length === 0) {
    report([...at, 'rollout'], `flag '${name}' is at stage dark with no segments, so no unit gets value (dark serves only the units of its segments); add segments: [internal] to the rollout.`, {
      key: true,
      severity: 'warning',
    });
  }
  if (rollout.stage === 'canary' && rollout.percent === 0 && segments.length === 0) {
    report([...at, 'rollout', 'percent'], `flag '${name}' is at canary 0% with no segments, so no unit gets value; name the units with segments: [name], or raise percent.`);
  }
}

/** A plausible off value for the fix: a disabled toggle when the value is a toggle, else a placeholder. */
function exampleOffValue(value: unknown): string {
  if (typeof value === 'boolean') return 'false';
  if (isRecord(value) && typeof value.enabled === 'boolean' && Object.keys(value).length === 1) return '{ enabled: false }';
  return '<the value before this change>';
}
