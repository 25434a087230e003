/**
 * Postgres reports positions as character (code point) offsets; the parser its statements as UTF-8
 * byte offsets; JavaScript strings count UTF-16 code units; people read line:column.
 */

export interface LineColumn {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
}

/** 0-based character offset → 1-based line and column. */
export function lineColumnAt(text: string, charOffset: number): LineColumn {
  const offset = Math.max(0, Math.min(charOffset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Convert UTF-8 byte offsets of `text` (as libpg-query reports them) to character offsets. */
export function byteToCharOffset(bytes: Buffer, byteOffset: number): number {
  return bytes.subarray(0, byteOffset).toString('utf8').length;
}

/** Convert an offset in Unicode code points (Postgres's characters) to one in `text`'s UTF-16 code units. */
export function codePointToCharOffset(text: string, codePoints: number): number {
  let offset = 0;
  for (let n = 0; n < codePoints && offset < text.length; n += 1) offset += text.codePointAt(offset)! > 0xffff ? 2 : 1;
  return offset;
}
