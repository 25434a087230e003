/**
 * A YAML file parsed with positions, so that every problem found later (schema,
 * contract, cross-file) can be pinned to the exact node that caused it.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Problem } from '../problems.ts';

export type PathToken = string | number;

export interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain JS data, or undefined when the file could not be read as data. */
  data: unknown;
  /** Syntax errors and warnings; when any is fatal, `data` is undefined. */
  problems: Problem[];
}

/** Anchors and aliases are legitimate YAML, but a few hundred expansions is already abuse ("billion laughs"). */
const MAX_ALIAS_COUNT = 200;

/** Error codes after which the document is still a faithful reading of the file. */
const RECOVERABLE = new Set(['DUPLICATE_KEY']);

const MESSAGES: Partial<Record<string, string>> = {
  DUPLICATE_KEY: 'duplicate key: this key is already set above in the same map; keep one of them',
  TAB_AS_INDENT: 'tab used for indentation: YAML indents with spaces only; replace the tab with spaces',
  BAD_INDENT: 'bad indentation: align this line with its siblings (spaces only)',
};

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, stringKeys: false });
  const at = (offset: number): Position => {
    const pos = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: pos.line, column: pos.col };
  };
  const problems: Problem[] = [];
  let fatal = false;
  for (const error of doc.errors) {
    if (!RECOVERABLE.has(error.code)) fatal = true;
    problems.push({ file, ...at(error.pos[0]), severity: 'error', message: yamlMessage(error.code, error.message) });
  }
  for (const warning of doc.warnings) {
    problems.push({ file, ...at(warning.pos[0]), severity: 'warning', message: yamlMessage(warning.code, warning.message) });
  }
  let data: unknown;
  if (!fatal) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (thrown) {
      // toJS throws for alias bombs and unresolvable aliases: both are the file's fault.
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      problems.push({
        file,
        line: 1,
        column: 1,
        severity: 'error',
        message: /alias/i.test(message)
          ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): write the values out instead of nesting anchors`
          : `cannot read this file as data: ${message}`,
      });
    }
  }
  return { file, text, doc, lineCounter, data, problems };
}

function yamlMessage(code: string, raw: string): string {
  const known = MESSAGES[code];
  if (known) return known;
  // The library's message carries its own "at line X, column Y" suffix; we position separately.
  const text = raw.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
  return `YAML syntax: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

/**
 * Where a JSON-pointer-like path points in the file. `key: true` asks for the
 * map key rather than its value (for "unknown key" style problems). Falls back to
 * the deepest node that exists, then to the top of the file.
 */
export function locate(source: YamlSource, path: readonly PathToken[], options: { key?: boolean } = {}): Position {
  let node: unknown = source.doc.contents;
  let best: [number, number] | undefined = rangeOf(node);
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(source.doc);
    const token = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(token));
      if (!pair) break;
      const last = i === path.length - 1;
      if (last && options.key) {
        best = rangeOf(pair.key) ?? best;
        node = undefined;
        break;
      }
      node = pair.value;
      best = rangeOf(pair.value) ?? rangeOf(pair.key) ?? best;
    } else if (isSeq(node) && typeof token === 'number') {
      node = node.items[token];
      best = rangeOf(node) ?? best;
    } else {
      break;
    }
  }
  const offset = best ? best[0] : 0;
  const pos = source.lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeOf(node: unknown): [number, number] | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? [range[0], range[1]] : undefined;
}

/** Visit every string scalar with its path (used to find secrets written into the file). */
export function forEachString(source: YamlSource, visit: (value: string, path: PathToken[]) => void): void {
  const walk = (node: unknown, path: PathToken[]): void => {
    if (isScalar(node)) {
      if (typeof node.value === 'string') visit(node.value, path);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key) && pair.key.value !== null) walk(pair.value, [...path, String(pair.key.value)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    }
  };
  walk(source.doc.contents, []);
}
