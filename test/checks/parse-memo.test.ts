/**
 * The parse trees the guard keeps between runs (checks/parse-memo.ts): a kept tree is used
 * without loading the parser, a changed query is parsed afresh, a file of another parser or
 * shape is ignored, and the guard's rules apply to a kept tree as to a fresh one. No database.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_ENTRIES, parseMemoDir, parseTexts } from '../../actions/engine/checks/parse-memo.ts';
import { assertReadOnlyStatement, RefusedQueryError } from '../../actions/engine/checks/statement-guard.ts';
import { loadParser, rawParser } from '../../actions/engine/migrate/statements.ts';

const MEMO = 'sql-parse-1.json';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollout-parse-memo-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const readMemo = async (): Promise<{ parser: string; trees: Record<string, unknown> }> => JSON.parse(await readFile(join(dir, MEMO), 'utf8')) as { parser: string; trees: Record<string, unknown> };

describe('parse trees kept between runs', () => {
  it('gives the parser\'s own trees, and keeps them in the directory', async () => {
    await loadParser();
    const texts = ['SELECT 1 AS a', 'SELECT p95 FROM public.slo'];
    const parsed = await parseTexts(texts, dir);
    for (const text of texts) expect(parsed.get(text)).toEqual(rawParser()(text));
    const memo = await readMemo();
    expect(memo.parser).toMatch(/^libpg-query@\d+\.\d+\.\d+/);
    expect(Object.keys(memo.trees)).toHaveLength(2);
  });

  it('a second run takes the kept trees without loading the parser', async () => {
    await parseTexts(['SELECT 1 AS a'], dir);
    // A fresh copy of the modules, as in a new process: no parser loaded.
    vi.resetModules();
    const fresh = await import('../../actions/engine/checks/parse-memo.ts');
    const statements = await import('../../actions/engine/migrate/statements.ts');
    const parsed = await fresh.parseTexts(['SELECT 1 AS a'], dir);
    expect(parsed.get('SELECT 1 AS a')?.stmts?.[0].stmt).toHaveProperty('SelectStmt');
    expect(() => statements.rawParser()).toThrow(/before loadParser\(\) resolved/);
  });

  it('a changed query is parsed afresh: its tree is the new text\'s, and both are kept', async () => {
    await parseTexts(['SELECT a FROM t'], dir);
    const changed = await parseTexts(['DELETE FROM t'], dir);
    expect(Object.keys(changed.get('DELETE FROM t')?.stmts?.[0].stmt ?? {})).toEqual(['DeleteStmt']);
    expect(() => assertReadOnlyStatement('DELETE FROM t', undefined, changed.get('DELETE FROM t'))).toThrow(RefusedQueryError);
    expect(Object.keys((await readMemo()).trees)).toHaveLength(2);
  });

  it('the rules and the deny list apply to a kept tree as to a fresh one', async () => {
    await parseTexts(['SELECT my_reader() AS v'], dir);
    const kept = await parseTexts(['SELECT my_reader() AS v'], dir);
    const tree = kept.get('SELECT my_reader() AS v');
    expect(() => assertReadOnlyStatement('SELECT my_reader() AS v', new Set(), tree)).not.toThrow();
    // The catalog withholds the function now: the kept tree is refused, as a fresh parse would be.
    expect(() => assertReadOnlyStatement('SELECT my_reader() AS v', new Set(['my_reader']), tree)).toThrow(/function my_reader\(\) is not allowed/);
  });

  it('a text the parser rejects keeps no tree: the guard parses it again and says why', async () => {
    const parsed = await parseTexts(['SELEC 1'], dir);
    expect(parsed.get('SELEC 1')).toBeUndefined();
    await expect(readFile(join(dir, MEMO), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(() => assertReadOnlyStatement('SELEC 1', undefined, parsed.get('SELEC 1'))).toThrow(/syntax error at or near "SELEC"/);
  });

  it('ignores a file of another parser, of another shape, or cut short, and writes a good one', async () => {
    const forged = { stmts: [{ stmt: { SelectStmt: {} } }] };
    const key = (await import('node:crypto')).createHash('sha256').update('DELETE FROM t').digest('hex');
    for (const content of [JSON.stringify({ format: 1, parser: 'libpg-query@0.0.1', trees: { [key]: forged } }), JSON.stringify({ format: 1, parser: (await readMemoAfter('SELECT 1')).parser, trees: { [key]: { stmts: 'nope' } } }), '{"format": 1, "par']) {
      await writeFile(join(dir, MEMO), content);
      const parsed = await parseTexts(['DELETE FROM t'], dir);
      expect(Object.keys(parsed.get('DELETE FROM t')?.stmts?.[0].stmt ?? {})).toEqual(['DeleteStmt']);
    }
    expect(Object.keys((await readMemo()).trees)).toEqual([key]);
  });

  it('keeps the newest MAX_ENTRIES trees', async () => {
    const parser = (await readMemoAfter('SELECT 0')).parser;
    const old = Object.fromEntries(Array.from({ length: MAX_ENTRIES }, (_, i) => [`old${i}`, { stmts: [] }]));
    await writeFile(join(dir, MEMO), JSON.stringify({ format: 1, parser, trees: old }));
    await parseTexts(['SELECT 1 AS newest'], dir);
    const keys = Object.keys((await readMemo()).trees);
    expect(keys).toHaveLength(MAX_ENTRIES);
    expect(keys).not.toContain('old0');
    expect(keys).toContain('old1');
  });

  it('without a directory nothing is kept, and every text is parsed', async () => {
    const parsed = await parseTexts(['SELECT 1 AS a'], undefined);
    expect(parsed.get('SELECT 1 AS a')).toEqual(rawParser()('SELECT 1 AS a'));
  });
});

describe('where the CLI keeps them', () => {
  it('ROLLOUT_CACHE_DIR, then $XDG_CACHE_HOME/rollout, then ~/.cache/rollout; off keeps none', () => {
    expect(parseMemoDir({ ROLLOUT_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(parseMemoDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'rollout'));
    expect(parseMemoDir({})).toMatch(/[/\\]\.cache[/\\]rollout$/);
    expect(parseMemoDir({ ROLLOUT_CACHE_DIR: 'off' })).toBeUndefined();
    expect(parseMemoDir({ ROLLOUT_CACHE_DIR: '' })).toBeUndefined();
  });
});

/** The memo file after parsing `text` in it (for the parser's identity). */
async function readMemoAfter(text: string): Promise<{ parser: string }> {
  await parseTexts([text], dir);
  return readMemo();
}
