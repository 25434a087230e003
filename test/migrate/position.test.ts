import { describe, expect, it } from 'vitest';
import { byteToCharOffset, codePointToCharOffset, lineColumnAt } from '../../actions/engine/migrate/position.ts';

describe('lineColumnAt', () => {
  it('converts 0-based character offsets to 1-based line and column', () => {
    expect(lineColumnAt('ab\ncd\n', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt('ab\ncd\n', 4)).toEqual({ line: 2, column: 2 });
  });

  it('puts a line break on the line it ends, and the offset after it on the next line', () => {
    expect(lineColumnAt('ab\ncd', 2)).toEqual({ line: 1, column: 3 });
    expect(lineColumnAt('ab\ncd', 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumnAt('a\n\n\nb', 4)).toEqual({ line: 4, column: 1 });
  });

  it('clamps offsets outside the text to its start and end', () => {
    expect(lineColumnAt('ab\ncd', -5)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt('ab\ncd', 99)).toEqual({ line: 2, column: 3 });
    expect(lineColumnAt('', 3)).toEqual({ line: 1, column: 1 });
  });
});

describe('byteToCharOffset', () => {
  it('counts characters, not UTF-8 bytes', () => {
    const text = "SELECT 'é€😀';\nSELECT 2;";
    const bytes = Buffer.from(text, 'utf8');
    const byteOffset = bytes.indexOf(Buffer.from('SELECT 2'));
    expect(byteToCharOffset(bytes, byteOffset)).toBe(text.indexOf('SELECT 2'));
    expect(byteToCharOffset(bytes, 0)).toBe(0);
  });
});

describe('codePointToCharOffset', () => {
  it('counts a character outside the BMP (two UTF-16 code units) as one, as Postgres does', () => {
    const text = 'a😀é😀b';
    expect([0, 1, 2, 3, 4, 5].map((n) => codePointToCharOffset(text, n))).toEqual([0, 1, 3, 4, 6, 7]);
    expect(text.slice(codePointToCharOffset(text, 4))).toBe('b');
  });

  it('counts U+FFFF, the last character of the BMP, as one code unit', () => {
    expect(codePointToCharOffset('\uffffx', 1)).toBe(1);
  });

  it('stops at the end of the text', () => {
    expect(codePointToCharOffset('ab', 9)).toBe(2);
    expect(codePointToCharOffset('', 1)).toBe(0);
  });
});
