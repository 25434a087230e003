/**
 * A YAML file parsed with positions, so that every problem found later (schema,
 * contract, cross-file) can be pinned to the exact node that caused it.
 */
import { CORE_SCHEMA, Type, load as loadFast, types as yamlTypes } from 'js-yaml';
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Problem } from '../problems.ts';

export type PathToken = string | number;

export interface SourcePosition {
  line: number;
  column: number;
}

export interface YamlSource {
  file: string;
  text: string;
  /** The positioned document; built on first use when the file was read by the fast path. */
  readonly doc: Document.Parsed;
  /** 1-based line and column of an offset, counting lines by \n as editors do. */
  position(offset: number): SourcePosition;
  /** The plain JS data, or undefined when the file could not be read as data. */
  data: unknown;
  /** Syntax errors and warnings; when any is fatal, `data` is undefined. */
  problems: Problem[];
}

/** Anchors and aliases are legitimate YAML, but a few hundred expansions is already abuse ("billion laughs"). */
const MAX_ALIAS_COUNT = 200;

/**
 * Deeper than this is not configuration but an attack or an accident; refusing it here
 * keeps every later recursive step (toJS, ajv, locate, the string walk) far from the stack limit.
 */
export const MAX_DEPTH = 100;

const MESSAGES: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'tab used for indentation: YAML indents with spaces only; replace the tab with spaces',
  BAD_INDENT: 'bad indentation: align this line with its siblings (spaces only)',
  // The parser ran out of stack on deeply nested [ or {: say so instead of "maximum call stack size exceeded".
  RESOURCE_EXHAUSTION: `nesting too deep: lists and maps here are nested far more than ${MAX_DEPTH} levels; flatten the structure (or close the brackets you opened)`,
};

const PARSE_OPTIONS = { prettyErrors: false, uniqueKeys: false, strict: true, stringKeys: false, logLevel: 'error' } as const;

/**
 * Text the fast reader leaves to the full parser: anchors, aliases and tags (alias bombs,
 * custom types), explicit or flow-collection keys, tabs and directives. Conservative: a
 * false match only costs speed.
 */
const NEEDS_FULL_PARSE = /(?:^|[\s[{,])[&*!][^\s,\]}]|^[ -]*\?(?:\s|$)|^[ -]*[[{][^\n]*[\]}]\s*:(?:\s|$)|\t|^%/m;

/**
 * js-yaml's core schema, with the same values read faster. Every plain scalar (at 10,000 flags,
 * ~70,000 keys and values) that is not null, a boolean or an integer is tried against the float
 * type's regular expression, which can only match text that starts with a digit, a sign or a
 * dot (digits, `.5`, `-.inf`, `.nan`): testing that character first spares the expression for
 * `feature.f1`, `v2` or `enabled`. The float type keeps its place in the list (extend replaces a
 * type of the same tag where it stands), so resolution order is unchanged.
 */
const FLOAT = yamlTypes.float;
export const FAST_CORE_SCHEMA = CORE_SCHEMA.extend({
  implicit: [
    new Type(FLOAT.tag, {
      kind: 'scalar',
      resolve: (data: unknown) => typeof data === 'string' && mayBeFloat(data.charCodeAt(0)) && FLOAT.resolve(data),
      construct: (data: string) => FLOAT.construct(data) as number,
      predicate: FLOAT.predicate!,
      represent: FLOAT.represent!,
      defaultStyle: FLOAT.defaultStyle!,
    }),
  ],
});

/** The first characters YAML 1.2's core float can start with: 0-9, '-', '+', '.'. */
const mayBeFloat = (code: number): boolean => (code >= 48 && code <= 57) || code === 45 || code === 43 || code === 46;

/**
 * Read a file. A clean file (the common case, and the one that must be fast: 10,000
 * flags) is read by js-yaml's core schema, ~30× faster than building the positioned
 * document; that document is built only when a problem needs a position. Anything the
 * fast reader rejects or might read differently goes through the full parser.
 */
export function parseYamlSource(file: string, text: string): YamlSource {
  const fast = readFast(text);
  if (fast.ok) {
    let doc: Document.Parsed | undefined;
    return {
      file,
      text,
      get doc() {
        return (doc ??= parseDocument(text, PARSE_OPTIONS));
      },
      position: lineIndex(text),
      data: fast.data,
      problems: [],
    };
  }
  return parseFull(file, text);
}

function readFast(text: string): { ok: true; data: unknown } | { ok: false } {
  if (NEEDS_FULL_PARSE.test(text)) return { ok: false };
  try {
    // js-yaml refuses duplicate keys (json: false), so a duplicate falls back for its message.
    // maxDepth counts every node, scalars included, from 1 at the top: it throws for any list or
    // map MAX_DEPTH levels deep (and for a scalar just inside one MAX_DEPTH - 1 deep, which the
    // full parser then accepts). Too deep falls back, for the positioned message.
    // An empty file (or only comments) is null, as the full parser reads it.
    const data = loadFast(text, { schema: FAST_CORE_SCHEMA, maxDepth: MAX_DEPTH }) ?? null;
    return { ok: true, data };
  } catch {
    return { ok: false };
  }
}

function parseFull(file: string, text: string): YamlSource {
  const position = lineIndex(text);
  const at = (offset: number): SourcePosition => position(offset);
  let doc: Document.Parsed;
  try {
    // logLevel 'error': the library would print its own warnings (e.g. about map keys) with
    // process.emitWarning; we report them as positioned problems instead. uniqueKeys: false
    // because its check compares each key with every earlier one (O(n²): 10 s for 10,000
    // flags); inspectTree finds duplicates with a set per map instead.
    doc = parseDocument(text, PARSE_OPTIONS);
  } catch (thrown) {
    // The parser recurses per nesting level; thousands of levels ("- - - - …") overflow
    // the stack before it can report anything. That is the file's fault, not ours.
    if (!(thrown instanceof RangeError && /call stack/i.test(thrown.message))) throw thrown;
    const problem: Problem = { file, ...at(deepestOffset(text)), severity: 'error', message: MESSAGES.RESOURCE_EXHAUSTION! };
    return { file, text, doc: parseDocument(''), position, data: undefined, problems: [problem] };
  }
  const problems: Problem[] = [];
  let fatal = false;
  let exhausted = false;
  let followOnLine: number | undefined;
  for (const error of doc.errors) {
    fatal = true;
    // One stack overflow surfaces at many levels of the same nesting; one problem says it all.
    if (error.code === 'RESOURCE_EXHAUSTION') {
      if (exhausted) continue;
      exhausted = true;
    }
    const where = at(error.pos[0]);
    if (where.line === followOnLine) continue;
    // The parser notices an unclosed { or [ on the line after it, as "bad indentation": point at the bracket (issue 13, defect 7).
    const opening = /end with an? ([}\]])/.test(error.message) ? unclosedFlowStart(text, error.pos[0]) : undefined;
    if (opening !== undefined) {
      followOnLine = where.line;
      const bracket = text[opening];
      const close = bracket === '{' ? '}' : ']';
      const line = at(opening).line;
      problems.push({ file, ...at(opening), severity: 'error', message: `unclosed '${bracket}': the ${bracket === '{' ? 'map' : 'list'} opened here is never closed; add '${close}' at the end of line ${line} (or write it as indented lines)` });
      continue;
    }
    problems.push({ file, ...where, severity: 'error', message: yamlMessage(error.code, error.message) });
  }
  const found = inspectTree(doc.contents, MAX_DEPTH);
  for (const duplicate of found.duplicates) {
    const first = at(duplicate.first);
    problems.push({
      file,
      ...at(duplicate.offset),
      severity: 'error',
      message: `duplicate key '${duplicate.key.length > 80 ? `${duplicate.key.slice(0, 77)}...` : duplicate.key}': it is already set on line ${first.line} in the same map, and only one value can win; keep one of them`,
    });
  }
  if (!fatal) {
    if (found.tooDeep !== undefined) {
      fatal = true;
      problems.push({ file, ...at(found.tooDeep), severity: 'error', message: `nesting too deep: lists and maps here are nested more than ${MAX_DEPTH} levels; flatten the structure` });
    } else if (found.collectionKey !== undefined) {
      fatal = true;
      problems.push({ file, ...at(found.collectionKey), severity: 'error', message: 'a key must be a plain name, not a list or map; write `name: value` (a "?" or a "{" before the key makes it a map)' });
    }
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
        ...at(firstAliasOffset(doc.contents) ?? 0),
        severity: 'error',
        message: /alias/i.test(message)
          ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): write the values out instead of nesting anchors`
          : `cannot read this file as data: ${message}`,
      });
    }
  }
  return { file, text, doc, position, data, problems };
}

/** The offset of the innermost { or [ still open before `offset` (quotes and comments not counted), if any. */
function unclosedFlowStart(text: string, offset: number): number | undefined {
  const stack: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < offset && i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      // A quoted scalar rarely spans lines; ending it at the line keeps a stray quote from hiding the bracket.
      if (ch === quote || ch === '\n') quote = undefined;
      continue;
    }
    // Only a quote that starts a scalar opens one (an apostrophe in "it's" does not).
    if ((ch === '"' || ch === "'") && (i === 0 || /[\s:[{,]/.test(text[i - 1]))) quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]))) i = Math.max(i, text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i) - 1);
    else if (ch === '{' || ch === '[') stack.push(i);
    else if ((ch === '}' || ch === ']') && stack.length > 0) stack.pop();
  }
  return stack.at(-1);
}

/**
 * Line and column by our own index of line starts. (The parser's LineCounter misses
 * line breaks inside some broken tokens and then puts columns past the end of a line.)
 */
function lineIndex(text: string): (offset: number) => SourcePosition {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    const clamped = Math.max(0, Math.min(Math.trunc(offset) || 0, text.length));
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid] <= clamped) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: clamped - starts[low] + 1 };
  };
}

/**
 * Where a file too deeply nested for the parser most likely goes wrong: the first line
 * with the most nesting (indentation, "- ", "? ", "[" and "{"), at its first non-blank.
 */
function deepestOffset(text: string): number {
  let best = 0;
  let bestScore = -1;
  let start = 0;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    const score = indent + (line.match(/(?:^|\s)[-?](?=\s|$)|[[{]/g)?.length ?? 0);
    if (score > bestScore) {
      bestScore = score;
      best = start + Math.min(indent, line.length);
    }
    start += line.length + 1;
  }
  return best;
}

interface TreeFindings {
  /** The first collection nested deeper than the limit. */
  tooDeep?: number;
  /** The first map key that is itself a list or map. */
  collectionKey?: number;
  /** Keys set twice in one map: where, which key, and where it was first set. */
  duplicates: Array<{ offset: number; key: string; first: number }>;
}

/** One walk over the document, without recursion (the nesting may be anything). */
function inspectTree(root: unknown, limit: number): TreeFindings {
  const findings: TreeFindings = { duplicates: [] };
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth >= limit) {
      const offset = node.range?.[0] ?? 0;
      if (findings.tooDeep === undefined || offset < findings.tooDeep) findings.tooDeep = offset;
      continue;
    }
    const keys = isMap(node) ? new Map<string, number>() : undefined;
    for (const item of node.items) {
      if (!isPair(item)) {
        stack.push([item, depth + 1]);
        continue;
      }
      const offset = (item.key as Node | null)?.range?.[0] ?? 0;
      if (isCollection(item.key)) {
        if (findings.collectionKey === undefined || offset < findings.collectionKey) findings.collectionKey = offset;
      } else if (keys && isScalar(item.key)) {
        // The same identity the parser's own check uses: the scalar's value, with its type (1 and "1" differ).
        const value = item.key.value;
        const id = `${typeof value}:${String(value)}`;
        const first = keys.get(id);
        if (first === undefined) keys.set(id, offset);
        else findings.duplicates.push({ offset, key: String(value), first });
      }
      stack.push([item.key, depth + 1], [item.value, depth + 1]);
    }
  }
  findings.duplicates.sort((a, b) => a.offset - b.offset);
  return findings;
}

/** Where the first alias (*name) is, to point at the expansion that blew up. */
function firstAliasOffset(root: unknown): number | undefined {
  const stack: unknown[] = [root];
  let first: number | undefined;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      const offset = node.range?.[0];
      if (offset !== undefined && (first === undefined || offset < first)) first = offset;
    } else if (isCollection(node)) {
      for (const item of node.items) stack.push(...(isPair(item) ? [item.key, item.value] : [item]));
    }
  }
  return first;
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
export function locate(source: YamlSource, path: readonly PathToken[], options: { key?: boolean } = {}): SourcePosition {
  let node: unknown = source.doc.contents;
  let best: [number, number] | undefined = rangeOf(node);
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(source.doc);
    const token = path[i];
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
  return source.position(best ? best[0] : 0);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeOf(node: unknown): [number, number] | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? [range[0], range[1]] : undefined;
}

/**
 * Every string value in the data that `matches`, with its path (used to find secrets written
 * into the file). Iterative (aliases can nest data deeper than the file is); a container
 * remembers only its parent and key, and a path is spelled out only for a match.
 */
export function findStrings(source: YamlSource, matches: (value: string) => boolean): Array<{ value: string; path: PathToken[] }> {
  interface Container {
    node: object;
    parent: Container | undefined;
    key: PathToken;
  }
  const pathOf = (container: Container | undefined, key: PathToken): PathToken[] => {
    const path = [key];
    for (let at = container; at?.parent !== undefined; at = at.parent) path.push(at.key);
    return path.reverse();
  };
  const found: Array<{ value: string; path: PathToken[] }> = [];
  if (typeof source.data === 'string') return matches(source.data) ? [{ value: source.data, path: [] }] : [];
  const stack: Container[] = source.data !== null && typeof source.data === 'object' ? [{ node: source.data, parent: undefined, key: '' }] : [];
  while (stack.length > 0) {
    const container = stack.pop()!;
    const entries: Iterable<[PathToken, unknown]> = Array.isArray(container.node) ? (container.node as unknown[]).entries() : Object.entries(container.node);
    for (const [key, child] of entries) {
      if (typeof child === 'string') {
        if (matches(child)) found.push({ value: child, path: pathOf(container, key) });
      } else if (child !== null && typeof child === 'object') {
        stack.push({ node: child, parent: container, key });
      }
    }
  }
  return found;
}
