/**
 * Clean files are read by js-yaml (fast); files with problems by the positioned parser.
 * Both must read the same data, or a file would mean one thing when valid and another
 * when a neighbouring typo sends it down the other path.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CORE_SCHEMA, load as loadCore } from 'js-yaml';
import { parseDocument } from 'yaml';
import { FAST_CORE_SCHEMA, MAX_DEPTH, locate, parseYamlSource } from '../../actions/engine/config/yaml-source.ts';

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

  it("reads every plain scalar as js-yaml's core schema does (the float shortcut changes no value)", () => {
    // Scalars built from the characters that decide YAML 1.2 types: digits, signs, dots, exponents, prefixes, words.
    const piece = fc.constantFrom('0', '1', '9', '_', '.', '-', '+', 'e', 'E', 'x', 'o', 'b', 'a', 'f', 'inf', 'Inf', 'INF', 'nan', 'NaN', 'null', 'true', 'False', '~', 'v', ':', ' ');
    const tricky = fc.constantFrom('.5', '-.5', '+.5', '.inf', '-.inf', '+.INF', '.nan', '.NaN', '1e3', '1E-3', '-1.5e+3', '1.', '1_000', '1_', '_1', '0x1F', '0o17', '0b11', '017', '1e', '.e3', '-', '+', '.', '1..2', '10:30', 'yes', 'on', 'v1', 'feature.f1', '0.5', '-0', '-0.0', '+1');
    const plain = fc.oneof(tricky, fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('').trim()));
    const read = (text: string, schema: typeof CORE_SCHEMA): { value: unknown } | { error: string } => {
      try {
        return { value: loadCore(text, { schema }) };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    fc.assert(
      fc.property(plain, (scalar) => {
        const text = `key: ${scalar}
list: [${scalar}, x]
${scalar}: 1
`;
        const core = read(text, CORE_SCHEMA);
        const fast = read(text, FAST_CORE_SCHEMA);
        // Object.is tells NaN and -0 apart, as the plan hash would.
        if ('value' in core && 'value' in fast) {
          const a = core.value as Record<string, unknown>;
          const b = fast.value as Record<string, unknown>;
          expect(Object.keys(b)).toEqual(Object.keys(a));
          for (const key of Object.keys(a)) expect(JSON.stringify(b[key]) + String(b[key])).toBe(JSON.stringify(a[key]) + String(a[key]));
          expect(Object.is(b.key, a.key)).toBe(true);
        } else {
          expect(fast).toEqual(core);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses nesting past the limit on the fast path exactly as the full parser does, at every depth near it', () => {
    // An anchor sends a file down the full parser without changing its data.
    const fullPath = (text: string): string => text.replace('version: 1', 'version: &v 1');
    for (let levels = MAX_DEPTH - 6; levels <= MAX_DEPTH + 3; levels++) {
      for (const nested of ['['.repeat(levels) + ']'.repeat(levels), `${'{a: '.repeat(levels)}1${'}'.repeat(levels)}`]) {
        const text = `version: 1\nflags:\n  deep: { value: ${nested} }\n`;
        const fast = parseYamlSource('f.yaml', text);
        const slow = parseYamlSource('f.yaml', fullPath(text));
        expect(fast.problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual(slow.problems.map((p) => `${p.line}:${p.column} ${p.message}`));
        expect(fast.data).toEqual(slow.data);
      }
    }
    // The limit itself: the deepest list allowed is MAX_DEPTH - 1 below the top map.
    const allowed = MAX_DEPTH - 3;
    expect(parseYamlSource('f.yaml', `version: 1\nflags:\n  deep: { value: ${'['.repeat(allowed)}${']'.repeat(allowed)} }\n`).problems).toEqual([]);
    expect(parseYamlSource('f.yaml', `version: 1\nflags:\n  deep: { value: ${'['.repeat(allowed + 1)}${']'.repeat(allowed + 1)} }\n`).problems[0]?.message).toMatch(/nesting too deep/);
  });
});
