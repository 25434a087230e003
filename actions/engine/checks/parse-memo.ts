/**
 * The SQL parser's answers, kept between runs. `rollout health` sends the same monitor
 * queries every run, and loading the parser (1.7 MB of WebAssembly) cost more than
 * everything else health does after start-up. What is kept is the parse tree, never a
 * verdict: the read-only guard's rules (statement-guard.ts) and the catalog's deny list are
 * applied to the tree on every run, as to a tree the parser just returned, so a rule that
 * changes or a function the catalog now withholds takes effect at once. Parsing is a pure
 * function of the text and the parser's version, which together are the key: a changed
 * query is a new text, parsed and remembered on its first run; a new parser starts an empty
 * file of its own. Only trees are kept; a text the parser rejects is parsed again each run
 * (and refused with the parser's own message).
 *
 * The file lives in the user's cache directory (ROLLOUT_CACHE_DIR, else $XDG_CACHE_HOME/rollout,
 * else ~/.cache/rollout; ROLLOUT_CACHE_DIR=off keeps none), written only by rollout, never in
 * the repository, whose files a pull request could change. Anything unreadable in it (a
 * truncated write, another shape, a different parser) is ignored: the parser decides.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadParser, rawParser } from '../migrate/statements.ts';
import { warn } from '../cleanup.ts';
import { toError } from '../errors.ts';

/** What libpg-query's parseSync returns for a text it accepts. */
export interface ParseTree {
  stmts?: { stmt: Record<string, unknown> }[];
}

/** The parse trees of the texts a run sends, by text; a text without one is parsed by the guard itself. */
export interface ParsedTexts {
  get(text: string): ParseTree | undefined;
}

/** Trees kept at most: the queries of many environments, while old texts fall out. */
export const MAX_ENTRIES = 5_000;
const FORMAT = 1;

interface MemoFile {
  format: number;
  parser: string;
  /** sha256 of the text → its tree, oldest first. */
  trees: Record<string, ParseTree>;
}

/** Where the CLI keeps the memo, from the process environment; undefined: keep none. */
export function parseMemoDir(env: NodeJS.ProcessEnv): string | undefined {
  const chosen = env.ROLLOUT_CACHE_DIR;
  if (chosen !== undefined) return chosen === 'off' || chosen === '' ? undefined : chosen;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'rollout');
}

/**
 * The trees of `texts`: from the memo in `dir` where it has them, the others from the parser
 * (loaded only then), which are added to the memo. Without a `dir`, or where the parser's
 * version cannot be read, every text goes to the parser as before.
 */
export async function parseTexts(texts: Iterable<string>, dir: string | undefined): Promise<ParsedTexts> {
  const wanted = [...new Set(texts)];
  const parser = dir === undefined ? undefined : parserIdentity();
  const file = dir !== undefined && parser !== undefined ? join(dir, `sql-parse-${FORMAT}.json`) : undefined;
  const memo = file ? await readMemo(file, parser!) : undefined;
  const trees = new Map<string, ParseTree>();
  const fresh = new Map<string, ParseTree>();
  for (const text of wanted) {
    const kept = memo?.trees[keyOf(text)];
    if (kept) trees.set(text, kept);
  }
  const missing = wanted.filter((text) => !trees.has(text));
  if (missing.length > 0) {
    await loadParser();
    for (const text of missing) {
      let tree: ParseTree;
      try {
        tree = rawParser()(text) as ParseTree;
      } catch {
        continue; // A syntax error: the guard parses it again and says so.
      }
      trees.set(text, tree);
      fresh.set(text, tree);
    }
  }
  if (file && fresh.size > 0) {
    await writeMemo(file, parser!, memo, fresh).catch((error: unknown) => warn(`could not keep the parsed queries in ${file} (${toError(error).message}); the next run parses them again`));
  }
  return { get: (text) => trees.get(text) };
}

const keyOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The parser's package and version, read from its package.json (absent where it is bundled: then nothing is kept). */
function parserIdentity(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const { name, version } = require('libpg-query/package.json') as { name?: unknown; version?: unknown };
    return typeof name === 'string' && typeof version === 'string' ? `${name}@${version}` : undefined;
  } catch {
    return undefined;
  }
}

async function readMemo(file: string, parser: string): Promise<MemoFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<MemoFile>;
    const valid = parsed.format === FORMAT && parsed.parser === parser && typeof parsed.trees === 'object' && parsed.trees !== null && !Array.isArray(parsed.trees);
    if (!valid) return undefined;
    // A tree of another shape is not a tree the parser gave: drop it, so that the parser decides.
    const trees: Record<string, ParseTree> = {};
    for (const [key, tree] of Object.entries(parsed.trees!)) if (isTree(tree)) trees[key] = tree;
    return { format: FORMAT, parser, trees };
  } catch {
    return undefined;
  }
}

function isTree(value: unknown): value is ParseTree {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { stmts } = value as { stmts?: unknown };
  return stmts === undefined || (Array.isArray(stmts) && stmts.every((s) => typeof s === 'object' && s !== null && typeof (s as { stmt?: unknown }).stmt === 'object' && (s as { stmt?: unknown }).stmt !== null));
}

/** The new trees last, the oldest dropped past MAX_ENTRIES; atomically, by rename (two runs at once: the last one's file wins, each whole). */
async function writeMemo(file: string, parser: string, previous: MemoFile | undefined, fresh: ReadonlyMap<string, ParseTree>): Promise<void> {
  const trees = new Map<string, ParseTree>(Object.entries(previous?.trees ?? {}));
  for (const [text, tree] of fresh) {
    const key = keyOf(text);
    trees.delete(key);
    trees.set(key, tree);
  }
  const kept = [...trees].slice(-MAX_ENTRIES);
  const content: MemoFile = { format: FORMAT, parser, trees: Object.fromEntries(kept) };
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  // Readable by its owner only: a tree holds the query's literals.
  await writeFile(temporary, JSON.stringify(content), { mode: 0o600 });
  await rename(temporary, file);
}
