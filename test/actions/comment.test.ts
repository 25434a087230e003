/** The sticky comment's body limit and the page-by-page search that finds it again. */
import { describe, expect, it } from 'vitest';
import { BODY_LIMIT, planMarker, stickyBody } from '../../actions/github/comment.ts';
import { findInPages } from '../../actions/github/scm.ts';

const marker = planMarker('staging');
const url = 'https://github.com/o/r/actions/runs/1';
const fences = (text: string): number => (text.match(/^```/gm) ?? []).length;

describe('stickyBody', () => {
  it('puts the marker first and leaves a body that fits as it is', () => {
    const markdown = '### plan\n\nall good\n';
    expect(stickyBody(marker, markdown, url)).toBe(`${marker}\n${markdown}`);
    const exact = 'x'.repeat(BODY_LIMIT - marker.length - 1);
    expect(stickyBody(marker, exact, url)).toBe(`${marker}\n${exact}`);
  });

  it('cuts a body over 65,536 characters at a line boundary, with a pointer to the job summary', () => {
    const line = `| \`flag.${'k'.repeat(40)}\` | change | ✓ |\n`;
    const markdown = line.repeat(Math.ceil((BODY_LIMIT * 2) / line.length));
    const body = stickyBody(marker, markdown, url);
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(body.length).toBeGreaterThan(BODY_LIMIT - 2 * line.length - 400);
    expect(body.startsWith(`${marker}\n${line}`)).toBe(true);
    expect(body).toContain(`The whole text is in the [job summary](${url}).`);
    expect(body).toContain('65,536 characters');
    const kept = body.slice(marker.length + 1, body.indexOf('\n\n**Cut short:**'));
    // Whole lines only: the cut fell on a newline.
    expect(kept.split('\n').every((l) => l === line.trimEnd())).toBe(true);
    expect(markdown.startsWith(kept)).toBe(true);
  });

  it('closes a code fence left open by the cut, and adds none when the fences are balanced', () => {
    const open = `intro\n\n\`\`\`sql\n${'SELECT 1;\n'.repeat(BODY_LIMIT / 5)}\`\`\`\n\nafter\n`;
    const body = stickyBody(marker, open, url);
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(fences(body) % 2).toBe(0);
    expect(body).toMatch(/SELECT 1;\n```\n\n\*\*Cut short:\*\*/);

    const closed = `\`\`\`\ncode\n\`\`\`\n${'plain line\n'.repeat(BODY_LIMIT / 5)}`;
    const cut = stickyBody(marker, closed, url);
    expect(fences(cut)).toBe(2);
    expect(cut).toMatch(/plain line\n\n\*\*Cut short:\*\*/);
  });

  it('cuts one endless line at the budget, never splitting a surrogate pair', () => {
    const emoji = '\u{1F680}';
    const markdown = emoji.repeat(BODY_LIMIT);
    const body = stickyBody(marker, markdown, url, 1_000);
    expect(body.length).toBeLessThanOrEqual(1_000);
    const kept = body.slice(marker.length + 1, body.indexOf('\n\n**Cut short:**'));
    expect(kept.length).toBeGreaterThan(500);
    expect(kept.length % 2).toBe(0);
    expect([...kept].every((ch) => ch === emoji)).toBe(true);
    expect(body).toContain('(1,000 characters)');
  });
});

describe('findInPages', () => {
  const pages = (count: number, perPage = 100, hit?: { page: number; index: number }): { read: number[]; readPage: (page: number) => Promise<{ id: number; body: string }[]> } => {
    const read: number[] = [];
    return {
      read,
      readPage: (page) => {
        read.push(page);
        const size = page < count ? perPage : page === count ? 7 : 0;
        return Promise.resolve(
          Array.from({ length: size }, (_, i) => ({ id: page * 1000 + i, body: hit && hit.page === page && hit.index === i ? `${marker}\nplan` : 'someone else' })),
        );
      },
    };
  };

  it('finds the marker on page 3, reading pages 1, 2 and 3 only', async () => {
    const { read, readPage } = pages(5, 100, { page: 3, index: 42 });
    const found = await findInPages(readPage, (c) => c.body.includes(marker));
    expect(found?.id).toBe(3042);
    expect(read).toEqual([1, 2, 3]);
  });

  it('reads up to the short last page and stops there when nothing matches', async () => {
    const { read, readPage } = pages(4);
    expect(await findInPages(readPage, (c) => c.body.includes(marker))).toBeUndefined();
    expect(read).toEqual([1, 2, 3, 4]);
  });

  it('finds a match on the short last page, and ends on an empty first page', async () => {
    const last = pages(2, 100, { page: 2, index: 6 });
    expect((await findInPages(last.readPage, (c) => c.body.includes(marker)))?.id).toBe(2006);
    const empty = pages(0);
    expect(await findInPages(empty.readPage, () => true)).toBeUndefined();
    expect(empty.read).toEqual([1]);
  });

  it('gives up after a bounded number of full pages from a server that never ends', async () => {
    let reads = 0;
    const endless = (): Promise<number[]> => {
      reads++;
      return Promise.resolve(Array.from({ length: 100 }, (_, i) => i));
    };
    expect(await findInPages(endless, () => false)).toBeUndefined();
    expect(reads).toBe(1000);
  });
});
