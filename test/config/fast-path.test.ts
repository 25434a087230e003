/**
 * Clean files are read by js-yaml (fast); files with problems by the positioned parser.
 * Both must read the same data, or a file would mean one thing when valid and another
 * when a neighbouring typo sends it down the other path.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { locate, parseYamlSource } from '../../actions/engine/config/yaml-source.ts';

const full = (text: string): unknown => parseDocument(text, { uniqueKeys: false, strict: true }).toJS();

describe('fast path', () => {
  it('reads the example environments exactly as the full parser does', () => {
    const dir = join(import.meta.dirname, '../../environments');
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      const source = parseYamlSource(file, text);
      expect(source.problems).toEqual([]);
      expect(source.data).toEqual(full(text));
    }
  });

  it('agrees with the full parser on generated flag files', () => {
    const scalar = fc.oneof(
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom('null', '~', 'yes', 'no', 'on', '0x1F', '0o17', '1e3', '.inf', '2027-06-30', '"quoted: text"', "'single'", 'v1.2', 'SELECT count(*) FROM t'),
      fc.string({ unit: 'grapheme-ascii' }).map((s) => JSON.stringify(s)),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_.]{0,12}$/), scalar, scalar), { maxLength: 20 }), (flags) => {
        const unique = [...new Map(flags.map((f) => [f[0], f])).values()];
        const text = `version: 1\nflags:\n${unique.map(([k, a, b]) => `  ${k}:\n    value: { a: ${String(a)}, b: [${String(b)}] }\n    note: ${String(a)}\n`).join('')}`;
        const source = parseYamlSource('f.yaml', text);
        if (source.problems.length === 0) expect(source.data).toEqual(full(text));
      }),
      { numRuns: 500 },
    );
  });

  it('builds positions on demand for a file read by the fast path', () => {
    const source = parseYamlSource('f.yaml', 'version: 1\nflags:\n  a:\n    value: 2\n');
    expect(source.problems).toEqual([]);
    expect(locate(source, ['flags', 'a', 'value'])).toEqual({ line: 4, column: 12 });
  });
});
