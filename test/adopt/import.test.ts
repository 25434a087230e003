/** `rollout import` on both databases: named keys, what stays unmanaged, tables that cannot serve, re-runs, dry runs. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addImportedFlags, inferSchema, selectImport, type ImportedFlag } from '../../actions/engine/adopt/import-flags.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { sql } from '../support/sql.ts';

const TABLE = 'CREATE TABLE public.feature_flags (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())';

describe.each(databaseTargets())('rollout import on $name', (target) => {
  let db: TestDatabase;
  const file = (): string => join(db.root, 'environments/test.yaml');
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, 'flag_store:\n  table: public.feature_flags\nflags:\n  kept.as.is:  # a comment that stays\n    value: 1\n');
    await sql(db, TABLE);
    await sql(db, `INSERT INTO public.feature_flags (key, value) VALUES ('kept.as.is', '2'), ('search.v2', '{"enabled": false}'), ('limits', '{"max": 3}'), ('legacy.banner', '"hi"')`);
  });
  afterEach(() => db.dispose());

  it('imports only the named keys; the rest stay unmanaged, and the plan never removes them', async () => {
    const run = await cliOn(db, ['import', '--env', 'test', '--flag', 'search.v2', '--flag', 'limits']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Left unmanaged (not named; rollout never touches them): legacy.banner');
    const text = await readFile(file(), 'utf8');
    expect(text).toContain('  kept.as.is:  # a comment that stays\n    value: 1\n  limits:\n    value: { max: 3 }\n');
    expect(text).toContain('  search.v2:\n    value: { enabled: false }\n');
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    // The key the file already had keeps the file's value: that difference is the plan's to show.
    expect(plan.stdout).toContain('1 flag to change.');
    expect(plan.stdout).toContain('Not managed by rollout (in public.feature_flags, not in Git; left as is): legacy.banner');
    // An imported key Git stops naming was never written by rollout: listed as not managed, not removed.
    await writeFile(file(), text.replace(/ {2}limits:\n.*\n.*\n/, ''));
    expect((await cliOn(db, ['plan', '--env', 'test'])).stdout).toContain('left as is): legacy.banner, limits');
  }, 60_000);

  it('converges: a second import finds nothing new and writes no ledger entry', async () => {
    expect((await cliOn(db, ['import', '--env', 'test'])).code).toBe(0);
    const again = await cliOn(db, ['import', '--env', 'test']);
    expect(again.stdout).toMatch(/^Nothing to import from public\.feature_flags/);
    expect(await sql(db, 'SELECT count(*)::int AS n FROM rollout.ledger')).toEqual([{ n: 1 }]);
  }, 60_000);

  it('a dry run writes neither the file nor the database', async () => {
    const before = await readFile(file(), 'utf8');
    const run = await cliOn(db, ['import', '--env', 'test', '--dry-run']);
    expect(run.stdout).toContain('test: would import 3 flag(s)');
    expect(await readFile(file(), 'utf8')).toBe(before);
    expect(await sql(db, "SELECT to_regclass('rollout.ledger') IS NULL AS none")).toEqual([{ none: true }]);
  }, 60_000);

  it('names keys the table lacks, and tables that cannot be a flag store, with the fix', async () => {
    const unknown = await cliOn(db, ['import', '--env', 'test', '--flag', 'search.v3']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: flag 'search.v3' is not in public.feature_flags; did you mean 'search.v2'?");
    await sql(db, 'CREATE TABLE public.toggles (name text, value text)');
    await writeFile(file(), (await readFile(file(), 'utf8')).replace('public.feature_flags', 'public.toggles'));
    const unfit = await cliOn(db, ['import', '--env', 'test']);
    expect(unfit.code).toBe(1);
    expect(unfit.stderr).toContain('public.toggles cannot be a flag store as it is (columns: name text, value text):');
    expect(unfit.stderr).toContain('it has no column key');
    expect(unfit.stderr).toContain('ALTER TABLE public.toggles ALTER COLUMN value TYPE jsonb USING to_jsonb(value)');
    expect(unfit.stderr).toContain('ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()');
    expect(unfit.stderr).not.toContain('    at ');
    await writeFile(file(), (await readFile(file(), 'utf8')).replace('public.toggles', 'public.flagz'));
    const missing = await cliOn(db, ['import', '--env', 'test']);
    expect(missing.stderr).toContain('there is no table public.flagz in this database. Tables that look like a flags table (key, value jsonb): public.feature_flags; pass one with --table.');
  }, 60_000);
});

describe('choosing and writing what is imported (pure)', () => {
  const flag = (key: string, value: ImportedFlag['value']): ImportedFlag => ({ key, value, suggestion: { kind: 'existing', name: 'toggle' } });

  it('selects every key the file lacks, or the named ones', () => {
    const rows = [{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'c', value: 3 }];
    expect(selectImport(rows, new Set(['a']), [], 't')).toEqual({ imported: rows.slice(1), alreadyInFile: ['a'], unmanaged: [] });
    expect(selectImport(rows, new Set(), ['c'], 't')).toEqual({ imported: [rows[2]], alreadyInFile: [], unmanaged: ['a', 'b'] });
  });

  it('writes into flags: {}, under an empty flags:, or where there are none, and sets the table once', () => {
    const two = [flag('x.on', { enabled: true }), flag('weird: key', 'yes')];
    expect(addImportedFlags('f', 'version: 1\nflags: {}\n# trailing comment\n', two, undefined)).toBe(
      'version: 1\nflags:\n  x.on:\n    value: { enabled: true }\n    # suggested: contract: toggle (contracts/toggle.schema.json accepts this value)\n  "weird: key":\n    value: "yes"\n    # suggested: contract: toggle (contracts/toggle.schema.json accepts this value)\n# trailing comment\n',
    );
    expect(addImportedFlags('f', 'version: 1\nflags:\n', [flag('a', 1)], 'public.ff')).toBe(
      'version: 1\nflag_store:\n  table: public.ff     # the table the services already read (rollout import)\n\nflags:\n  a:\n    value: 1\n    # suggested: contract: toggle (contracts/toggle.schema.json accepts this value)\n',
    );
    expect(addImportedFlags('f', 'version: 1\n', [flag('a', 1)], undefined)).toContain('version: 1\n\nflags:\n  a:\n    value: 1\n');
    expect(() => addImportedFlags('f', 'flags: { a: { value: 1 } }\n', [flag('b', 2)], undefined)).toThrow(/written inline/);
    expect(() => addImportedFlags('f', 'flag_store: { table: public.other }\nflags: {}\n', [flag('b', 2)], 'public.ff')).toThrow(/already names flag_store public.other/);
  });

  it('infers the narrowest plain schema of a value', () => {
    expect(inferSchema({ max: 5, ratio: 0.5, tags: ['a'], note: null })).toEqual({
      type: 'object',
      required: ['max', 'note', 'ratio', 'tags'],
      additionalProperties: false,
      properties: { max: { type: 'integer' }, note: { type: 'null' }, ratio: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } },
    });
  });
});
