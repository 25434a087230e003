/**
 * Ways to break an environment file, as fast-check arbitraries. Every mutation starts
 * from one of the repository's own example files and yields the bytes of a new file
 * (bytes, not text, so that invalid UTF-8 and NUL bytes reach the loader as they would
 * from disk).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface Seed {
  name: string;
  text: string;
}

export const SEEDS: readonly Seed[] = readdirSync(join(REPO_ROOT, 'environments'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({ name: f.replace(/\.yaml$/, ''), text: readFileSync(join(REPO_ROOT, 'environments', f), 'utf8') }));

/** A mutation: a named, pure function from the bytes of a file to the bytes of another. */
export interface Mutation {
  label: string;
  apply(bytes: Uint8Array): Uint8Array;
}

/** Counterexamples print as their label, not as the source of a closure. */
const mutation = (label: string, apply: (bytes: Uint8Array) => Uint8Array): Mutation => {
  const named: Mutation & { [fc.toStringMethod]: () => string } = { label, apply, [fc.toStringMethod]: () => label };
  return named;
};

const encoder = new TextEncoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);
/** How Node's readFileSync(…, 'utf8') decodes (keeps a BOM, replaces bad sequences with U+FFFD). */
export const decode = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

const lines = (bytes: Uint8Array): string[] => decode(bytes).split('\n');
const unlines = (list: string[]): Uint8Array => utf8(list.join('\n'));
/** Pick an index from a fraction in [0, 1), so arbitraries need not know the file's size. */
const pick = (length: number, fraction: number): number => Math.min(length - 1, Math.floor(fraction * length));
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

const splice = (bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array => {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
};

/** Replace the value of a random `key: value` line, keeping the key and its indentation. */
const replaceValue = (bytes: Uint8Array, where: number, value: string): Uint8Array => {
  const list = lines(bytes);
  const candidates = list.map((l, i) => [l, i] as const).filter(([l]) => /^\s*(- )?[\w.@"-]+:\s*\S/.test(l) && !l.trimStart().startsWith('#'));
  if (candidates.length === 0) return bytes;
  const [line, index] = candidates[pick(candidates.length, where)];
  list[index] = line.replace(/^(\s*(?:- )?[\w.@"-]+:\s*).*$/, `$1${value}`);
  return unlines(list);
};

// ── small, cheap mutations: thousands of these run in-process ───────────────────────

const truncate = fraction.map<Mutation>((at) => mutation(`truncate at ${at.toFixed(3)}`, (bytes) => bytes.subarray(0, Math.floor(at * bytes.length))));

const WRONG_VALUES = ['[]', '{}', '~', 'null', 'true', 'false', '42', '-7', '3.5', '"text"', "'quoted'", '[1, 2, 3]', '{a: 1}', '{enabled: yes}', '2027-13-45', '.inf', '-.nan', '0x1F', '"postgres://u:x@h/db"', ''];
const wrongType = fc
  .tuple(fraction, fc.oneof(fc.constantFrom(...WRONG_VALUES), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null')))
  .map<Mutation>(([where, value]) => mutation(`value → ${value.slice(0, 40)}`, (bytes) => replaceValue(bytes, where, value)));

const badIndentation = fc.tuple(fraction, fc.integer({ min: -6, max: 7 })).map<Mutation>(([where, delta]) => mutation(`indent ${delta} at ${where.toFixed(3)}`, (bytes) => {
  const list = lines(bytes);
  const i = pick(list.length, where);
  const line = list[i];
  list[i] = delta >= 0 ? ' '.repeat(delta) + line : line.replace(new RegExp(`^ {0,${-delta}}`), '');
  return unlines(list);
}));

const tabs = fc.tuple(fraction, fc.boolean()).map<Mutation>(([where, indent]) => mutation(`tab ${indent ? 'indent' : 'inside'} at ${where.toFixed(3)}`, (bytes) => {
  if (!indent) return splice(bytes, Math.floor(where * bytes.length), 0, utf8('\t'));
  const list = lines(bytes);
  const i = pick(list.length, where);
  list[i] = list[i].replace(/^( +)/, (spaces) => '\t'.repeat(Math.max(1, spaces.length >> 1)));
  return unlines(list);
}));

/** Byte sequences that are not valid UTF-8, NUL and other control bytes, a BOM. */
const JUNK: readonly number[][] = [[0], [0, 0, 0], [0xff], [0xfe, 0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xef, 0xbb, 0xbf], [0x1b, 0x5b, 0x33, 0x31, 0x6d], [0x0d], [0x85], [0x7f], [0x08]];
const binaryJunk = fc
  .tuple(fraction, fc.oneof(fc.constantFrom(...JUNK.map((j) => Uint8Array.from(j))), fc.uint8Array({ minLength: 1, maxLength: 64 })))
  .map<Mutation>(([where, junk]) => mutation(`junk ${Buffer.from(junk).toString('hex').slice(0, 32)} at ${where.toFixed(3)}`, (bytes) => splice(bytes, Math.floor(where * bytes.length), 0, junk)),
  );

const byteFlips = fc.array(fc.tuple(fraction, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map<Mutation>((flips) => mutation(`flip ${flips.length} byte(s)`, (bytes) => {
  const out = Uint8Array.from(bytes);
  for (const [where, mask] of flips) if (out.length > 0) out[pick(out.length, where)] ^= mask;
  return out;
}));

const deleteLines = fc.tuple(fraction, fc.integer({ min: 1, max: 4 })).map<Mutation>(([where, count]) => mutation(`delete ${count} line(s) at ${where.toFixed(3)}`, (bytes) => {
  const list = lines(bytes);
  list.splice(pick(list.length, where), count);
  return unlines(list);
}));

/** Copy a line (a key, usually) next to itself or elsewhere: duplicate keys at every level. */
const duplicateLine = fc.tuple(fraction, fraction).map<Mutation>(([from, to]) => mutation(`duplicate line ${from.toFixed(3)} → ${to.toFixed(3)}`, (bytes) => {
  const list = lines(bytes);
  list.splice(pick(list.length, to), 0, list[pick(list.length, from)]);
  return unlines(list);
}));

const SNIPPETS = ['&a', '*a', '*missing', '!!binary', '!custom', '<<: *a', '? ', '- ', '---\n', '...\n', '%YAML 1.2\n', '|', '>-', '"', "'", '{', '}', '[', ']', ':', ',', '#', '@', '`', '\\', '\r\n'];
const insertSnippet = fc.tuple(fraction, fc.constantFrom(...SNIPPETS)).map<Mutation>(([where, snippet]) => mutation(`insert ${JSON.stringify(snippet)} at ${where.toFixed(3)}`, (bytes) => splice(bytes, Math.floor(where * bytes.length), 0, utf8(snippet))));

/** One to three cheap mutations in a row. */
export const cheapMutations = fc.array(fc.oneof(truncate, wrongType, badIndentation, tabs, binaryJunk, byteFlips, deleteLines, duplicateLine, insertSnippet), {
  minLength: 1,
  maxLength: 3,
});

// ── expensive mutations: fewer runs, each with a file of up to a few MB ─────────────

const MB = 1 << 20;
const HUGE_VALUES: readonly string[] = [
  `"${'x'.repeat(MB)}"`,
  'y'.repeat(MB),
  // a long run of scheme-like characters: linear scans only, no regex backtracking
  'a.'.repeat(MB / 2),
  `"${'a.'.repeat(MB / 4)}://u:hunter2@db"`,
  '1e308',
  '-1e308',
  '1e309',
  '5e-324',
  '9'.repeat(10_000),
  `0.${'0'.repeat(5_000)}1`,
  `-${'1'.repeat(400)}e${'9'.repeat(40)}`,
  '0b1010',
  '1_000_000',
  `[${Array.from({ length: 50_000 }, (_, i) => i).join(', ')}]`,
];
const hugeValue = fc.tuple(fraction, fc.constantFrom(...HUGE_VALUES.keys())).map<Mutation>(([where, which]) => mutation(`huge value #${which}`, (bytes) => replaceValue(bytes, where, HUGE_VALUES[which])));

/** A very long key, at the top or as a flag key. */
const hugeKey = fc.tuple(fc.constantFrom('x', 'a.', 'Z-'), fc.integer({ min: 200, max: 200_000 })).map<Mutation>(([unit, length]) => mutation(`key of ${length}×${unit}`, (bytes) => {
  const text = decode(bytes).replace(/^flags:\n/m, `flags:\n  ${unit.repeat(length)}: { value: 1, depends_on: [${unit.repeat(length)}x] }\n`);
  return utf8(text);
}));

const nesting = (open: string, close: string, depth: number, closed: boolean): string => open.repeat(depth) + (closed ? `1${close.repeat(depth)}` : '');
const deepNesting = fc
  .tuple(fraction, fc.constantFrom('[', '{a: ', '- ', 'block-map', 'block-seq'), fc.integer({ min: 50, max: 10_000 }), fc.boolean())
  .map<Mutation>(([where, kind, depth, closed]) => mutation(`nesting ${kind.trim()} ×${depth}${closed ? ' closed' : ''}`, (bytes) => {
    switch (kind) {
      case '[':
        return replaceValue(bytes, where, nesting('[', ']', depth, closed));
      case '{a: ':
        return replaceValue(bytes, where, nesting('{a: ', '}', depth, closed));
      case '- ':
        return replaceValue(bytes, where, `\n${nesting('- ', '', depth, false)}x`);
      case 'block-map': {
        // Indented block maps cost O(depth²) bytes; a few thousand levels are plenty.
        const levels = Math.min(depth, 3_000);
        const body = Array.from({ length: levels }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n');
        return utf8(`${decode(bytes)}\nextra:\n${body} 1\n`);
      }
      default: {
        const levels = Math.min(depth, 3_000);
        const body = Array.from({ length: levels }, (_, i) => `${' '.repeat(i + 2)}-`).join('\n');
        return utf8(`${decode(bytes)}\nchecks:\n${body} 1\n`);
      }
    }
  }),
);

/** "Billion laughs" and friends: each level multiplies the one before by `width`. */
export function aliasBomb(levels: number, width: number, inFlag: boolean): string {
const out: string[] = [`l0: &l0 ${JSON.stringify('lol'.repeat(4))}`];
for (let i = 1; i < levels; i++) out.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]`);
if (!inFlag) return `${out.join('\n')}\n`;
const defs = out.map((l) => `    ${l.replace(/^l(\d+): /, 'l$1: ')}`).join('\n');
return `flags:\n  bomb:\n    value:\n${defs}\n    description: *l${levels - 1}\n`;
}
const aliasBombs = fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.boolean()).map<Mutation>(([levels, width, inFlag]) => mutation(`alias bomb ${levels}×${width}${inFlag ? ' in a flag' : ''}`, (bytes) => {
  const text = decode(bytes);
  return utf8(inFlag ? text.replace(/^flags:\n/m, aliasBomb(levels, width, true)) : `${aliasBomb(levels, width, false)}${text}`);
}));

export const expensiveMutations = fc.array(fc.oneof(hugeValue, hugeKey, deepNesting, aliasBombs, truncate, byteFlips), { minLength: 1, maxLength: 2 });

export const seed = fc.constantFrom(...SEEDS);

export function mutate(start: Seed, mutations: readonly Mutation[]): Uint8Array {
  return mutations.reduce((bytes, m) => m.apply(bytes), utf8(start.text));
}
