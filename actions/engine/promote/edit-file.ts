/**
 * Minimal edits to an environment file: change a flag's rollout position or value, or
 * add a flag, touching only the bytes of the nodes that change.
 *
 * The nodes are found with the `yaml` Document API (parseDocument, getIn, node ranges),
 * but the result is the original text with those ranges spliced, not String(doc):
 * re-stringifying a whole document re-flows long lines and folded scalars (`>-`),
 * collapses aligned comments and moves comments after keys, i.e. rewrites lines the
 * promotion never meant to touch. Flow maps stay flow maps, block maps stay block maps,
 * and every other byte of the file (comments, key order, blank lines) is kept as it was.
 */
import { isMap, isScalar, isSeq, parseDocument, stringify, type Pair, type YAMLMap } from 'yaml';
import type { JsonValue } from '../config/model.ts';
import { UserError } from '../errors.ts';
import type { Position } from '../stages/ladder.ts';

export type FileEdit =
  | { kind: 'position'; key: string; to: Position }
  | { kind: 'value'; key: string; value: JsonValue }
  | { kind: 'add'; key: string; flag: NewFlag; after?: string };

/** A flag as written in an environment file (snake_case keys), in the order they are written. */
export interface NewFlag {
  value: JsonValue;
  off_value?: JsonValue;
  contract?: string;
  kill_switch?: boolean;
  owner?: string;
  description?: string;
  depends_on?: (string | { flag: string; for: string })[];
  rollout?: { stage: Position['stage']; percent?: number; segments?: string[] };
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

export function editEnvironmentText(file: string, text: string, edits: readonly FileEdit[]): string {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) throw new UserError(`cannot edit ${file}: it is not valid YAML (${doc.errors[0].message}); run rollout validate.`);
  const flags = doc.get('flags', true);
  if (!isMap(flags) || flags.flow) {
    throw new UserError(`cannot edit ${file}: its flags are not a block map (one flag per line under \`flags:\`); write them that way and promote again.`);
  }
  const splices: Splice[] = [];
  const additions: Array<{ at: number; text: string }> = [];
  for (const edit of edits) {
    if (edit.kind === 'add') {
      additions.push(addFlag(text, flags, edit));
      continue;
    }
    const flag = flagMap(flags, file, edit.key);
    if (edit.kind === 'value') splices.push(replaceValue(text, flag, 'value', edit.value));
    else splices.push(...setPosition(text, flag, edit.to));
  }
  // Additions after the same flag keep their order: later additions go after earlier ones.
  for (const [i, addition] of additions.entries()) splices.push({ start: addition.at, end: addition.at, text: addition.text, ...{ order: i } });
  return applySplices(text, splices);
}

function flagMap(flags: YAMLMap, file: string, key: string): YAMLMap {
  const node = findPair(flags, key)?.value;
  if (!isMap(node)) throw new UserError(`cannot edit ${file}: flag '${key}' is not a map with value: and rollout:.`);
  return node;
}

const findPair = (map: YAMLMap, key: string): Pair | undefined =>
  map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);

/** Set rollout: to a position; keeps the rollout node's style (flow or block). */
function setPosition(text: string, flag: YAMLMap, to: Position): Splice[] {
  const rolloutPair = findPair(flag, 'rollout');
  const wanted: Record<string, JsonValue> = { stage: to.stage, ...(to.stage === 'canary' ? { percent: to.percent ?? 0 } : {}) };
  const rollout = rolloutPair?.value;
  if (!rolloutPair || !isMap(rollout)) return [insertPair(text, flag, 'rollout', flowText(wanted))];
  // The rollout's segments are not part of the position: a move keeps them.
  const segments = (rollout.toJSON() as { segments?: JsonValue }).segments;
  if (rollout.flow) return [replaceNode(rollout, flowMapText(segments === undefined ? wanted : { ...wanted, segments }))];
  const splices: Splice[] = [replaceValue(text, rollout, 'stage', to.stage)];
  const percent = findPair(rollout, 'percent');
  if (to.stage === 'canary') splices.push(percent ? replaceValue(text, rollout, 'percent', to.percent ?? 0) : insertPair(text, rollout, 'percent', scalarText(to.percent ?? 0)));
  else if (percent) splices.push(deletePair(text, percent));
  return splices;
}

/** Replace the value of `key` in a map, in the style of the node it replaces. */
function replaceValue(text: string, map: YAMLMap, key: string, value: JsonValue): Splice {
  const pair = findPair(map, key);
  const node = pair?.value;
  if (!pair || !node || !(isScalar(node) || isMap(node) || isSeq(node)) || !node.range) return insertPair(text, map, key, inlineText(value));
  const isCollection = value !== null && typeof value === 'object';
  if (isScalar(node) || (!isScalar(node) && node.flow) || !isCollection) {
    // A block collection replaced by a scalar becomes that scalar on the key's line.
    if (!isScalar(node) && !node.flow) return replaceBlock(text, pair, inlineText(value));
    return replaceNode(node, isScalar(node) ? inlineText(value) : flowText(value));
  }
  // A block collection stays a block, at its indentation.
  const indent = columnOf(text, node.range[0]);
  const block = stringify(value, { lineWidth: 0, indent: 2 }).trimEnd().split('\n');
  return { start: node.range[0], end: contentEnd(text, node.range[1]), text: block.map((line, i) => (i === 0 ? line : `${' '.repeat(indent)}${line}`)).join('\n') };
}

function replaceNode(node: { range?: [number, number, number] | null }, replacement: string): Splice {
  const range = node.range!;
  return { start: range[0], end: range[1], text: replacement };
}

/** `key:` followed by a block collection, replaced by `key: scalar` on one line. */
function replaceBlock(text: string, pair: Pair, inline: string): Splice {
  const keyNode = pair.key as { range?: [number, number, number] };
  const value = pair.value as { range?: [number, number, number] };
  const colon = text.indexOf(':', keyNode.range![1]);
  return { start: colon + 1, end: contentEnd(text, value.range![1]), text: ` ${inline}` };
}

/** Insert `key: inline` as the last pair of a block map (or the last key of a flow map). */
function insertPair(text: string, map: YAMLMap, key: string, inline: string): Splice {
  const range = map.range!;
  if (map.flow) {
    const close = text.lastIndexOf('}', range[1]);
    const before = text.slice(range[0] + 1, close).trimEnd();
    const sep = before.length === 0 ? ' ' : ', ';
    return { start: range[0] + 1 + before.length, end: close, text: `${sep}${key}: ${inline} ` };
  }
  const first = map.items[0]?.key as { range?: [number, number, number] } | undefined;
  const indent = first?.range ? columnOf(text, first.range[0]) : 0;
  const at = lineEnd(text, range[1]);
  return { start: at, end: at, text: `${text[at - 1] === '\n' || at === 0 ? '' : '\n'}${' '.repeat(indent)}${key}: ${inline}\n` };
}

/** Delete a block map pair: its whole line(s). */
function deletePair(text: string, pair: Pair): Splice {
  const keyNode = pair.key as { range?: [number, number, number] };
  const value = pair.value as { range?: [number, number, number] } | null;
  const start = text.lastIndexOf('\n', keyNode.range![0] - 1) + 1;
  const end = lineEnd(text, value?.range?.[1] ?? keyNode.range![1]);
  return { start, end, text: '' };
}

/** A new flag, written as a block after `after` (or after the last flag), in the file's indentation. */
function addFlag(text: string, flags: YAMLMap, edit: Extract<FileEdit, { kind: 'add' }>): { at: number; text: string } {
  const firstFlag = flags.items[0];
  const firstKey = firstFlag?.key as { range?: [number, number, number] } | undefined;
  const keyIndent = firstKey?.range ? columnOf(text, firstKey.range[0]) : 2;
  const firstValue = firstFlag?.value;
  const firstProperty = isMap(firstValue) && !firstValue.flow ? (firstValue.items[0]?.key as { range?: [number, number, number] } | undefined) : undefined;
  const step = firstProperty?.range ? Math.max(1, columnOf(text, firstProperty.range[0]) - keyIndent) : 2;
  const pad = ' '.repeat(keyIndent);
  const inner = ' '.repeat(keyIndent + step);
  const lines = [`${pad}${scalarText(edit.key)}:`];
  for (const [name, value] of Object.entries(edit.flag) as Array<[string, JsonValue | undefined]>) {
    if (value === undefined) continue;
    const text = name === 'rollout' ? flowMapText(value as Record<string, JsonValue>) : name === 'depends_on' ? flowText(value) : inlineText(value);
    lines.push(`${inner}${name}: ${text}`);
  }
  const anchor = (edit.after !== undefined ? findPair(flags, edit.after) : undefined) ?? flags.items[flags.items.length - 1];
  const anchorEnd = (anchor?.value as { range?: [number, number, number] } | null)?.range?.[1] ?? flags.range![1];
  const at = lineEnd(text, anchorEnd);
  return { at, text: `${text[at - 1] === '\n' || at === 0 ? '' : '\n'}${lines.join('\n')}\n` };
}

/** Scalars as YAML writes them (quoted only when needed); collections as flow. */
const inlineText = (value: JsonValue): string => (value !== null && typeof value === 'object' ? flowText(value) : scalarText(value));
const scalarText = (value: JsonValue): string => stringify(value, { lineWidth: 0 }).trimEnd();
/** Flow style as this repository writes it: `{ stage: canary, percent: 5 }`, `[a, b]`. */
const flowText = (value: JsonValue): string => stringify(value, { collectionStyle: 'flow', flowCollectionPadding: !Array.isArray(value), lineWidth: 0 }).trimEnd();

/** `{ stage: canary, percent: 5, segments: [internal] }`: padded braces, unpadded brackets inside. */
const flowMapText = (map: Record<string, JsonValue>): string => `{ ${Object.entries(map).map(([key, value]) => `${scalarText(key)}: ${inlineText(value)}`).join(', ')} }`;

/** A block collection's range ends after its last newline; an edit ends at its last character. */
function contentEnd(text: string, end: number): number {
  let at = end;
  while (at > 0 && /\s/.test(text[at - 1])) at--;
  return at;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** The start of the line after the one `offset` is on (past a trailing comment); `offset` itself when it starts a line. */
function lineEnd(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

function applySplices(text: string, splices: ReadonlyArray<Splice & { order?: number }>): string {
  const sorted = [...splices].sort((a, b) => b.start - a.start || (b.order ?? 0) - (a.order ?? 0));
  let out = text;
  let limit = Infinity;
  for (const splice of sorted) {
    if (splice.end > limit) throw new Error(`overlapping edits at offset ${splice.start}`);
    out = out.slice(0, splice.start) + splice.text + out.slice(splice.end);
    limit = splice.start;
  }
  return out;
}
