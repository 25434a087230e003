/**
 * A readable diff of two JSON values: one line per changed leaf with its path
 * ("epsilon: 0.08 → 0.1"), not two blobs side by side.
 */
import diff from 'microdiff';
import type { JsonValue } from '../config/model.ts';

export interface DiffLine {
  op: '+' | '-' | '~';
  /** Dotted path inside the value; empty for the value as a whole. */
  path: string;
  before?: JsonValue;
  after?: JsonValue;
}

const isContainer = (v: unknown): v is object => v !== null && typeof v === 'object';

export function diffJson(before: JsonValue | undefined, after: JsonValue | undefined): DiffLine[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ op: '+', path: '', after }];
  if (after === undefined) return [{ op: '-', path: '', before }];
  if (!isContainer(before) || !isContainer(after) || Array.isArray(before) !== Array.isArray(after)) {
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ op: '~', path: '', before, after }];
  }
  return diff(before, after).map((d) => {
    const path = d.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
    switch (d.type) {
      case 'CREATE':
        return { op: '+', path, after: d.value as JsonValue };
      case 'REMOVE':
        return { op: '-', path, before: d.oldValue as JsonValue };
      case 'CHANGE':
        return { op: '~', path, before: d.oldValue as JsonValue, after: d.value as JsonValue };
    }
  });
}

export const compactJson = (value: JsonValue | undefined): string => (value === undefined ? '(none)' : JSON.stringify(value));

/** "epsilon: 0.08 → 0.1", "+ region: \"eu\"", "- legacy: true" */
export function formatDiffLine(line: DiffLine): string {
  const label = line.path ? `${line.path}: ` : '';
  switch (line.op) {
    case '+':
      return `+ ${label}${compactJson(line.after)}`;
    case '-':
      return `- ${label}${compactJson(line.before)}`;
    case '~':
      return `~ ${label}${compactJson(line.before)} → ${compactJson(line.after)}`;
  }
}

/**
 * A held flag's diff as what stays, not as a change apply would make: "enabled: true kept
 * (Git says false)", never "enabled: true → false" (issue 13, defect 8).
 */
export function formatHeldLine(line: DiffLine): string {
  const label = line.path ? `${line.path}: ` : '';
  switch (line.op) {
    case '~':
      return `= ${label}${compactJson(line.before)} kept (Git says ${compactJson(line.after)})`;
    case '+':
      return `= ${label}absent, kept so (Git says ${compactJson(line.after)})`;
    case '-':
      return `= ${label}${compactJson(line.before)} kept (Git has none)`;
  }
}
