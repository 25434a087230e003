/**
 * The plan's lines about what is served beside a flag's value: its off value and segments,
 * and what a plain read of the value table returns (never more than the stage allows).
 * One sentence each, shared by the text and markdown renderings.
 */
import equal from 'fast-deep-equal';
import { compactJson } from '../plan/json-diff.ts';
import type { FlagChange } from '../plan/types.ts';

export function servingNotes(change: FlagChange, flagTable: string): string[] {
  const notes: string[] = [];
  const after = change.serving;
  if (after && change.servingBefore !== undefined && change.to?.stage != null) {
    const before = change.servingBefore;
    if (!before || !equal(before.offValue, after.offValue)) notes.push(`off value (units outside the rollout): ${before ? `${compactJson(before.offValue ?? undefined)} → ` : ''}${compactJson(after.offValue ?? undefined)}`);
    const names = (list: { name: string }[]): string => (list.length ? list.map((s) => s.name).join(', ') : 'none');
    if (before ? !equal(before.segments, after.segments) : after.segments.length > 0) notes.push(`segments (in whatever their bucket): ${before ? `${names(before.segments)} → ` : ''}${names(after.segments)}${before && names(before.segments) === names(after.segments) ? ' (members changed)' : ''}`);
  }
  const plain = change.plain;
  // A new flag's plain read is worth a line only when it is not its value (staged, not yet full).
  if (plain && ((change.servingBefore === null && change.action !== 'add') || change.drift || !equal(plain.after, change.after))) {
    const why = change.servingBefore === null && change.action !== 'add' ? ' (written by an older version: migrated so a plain read is never more than the stage allows)' : '';
    notes.push(`${flagTable} (a plain read): ${plain.before !== undefined ? `${compactJson(plain.before)} → ` : ''}${compactJson(plain.after)}${why}`);
  }
  return notes;
}
