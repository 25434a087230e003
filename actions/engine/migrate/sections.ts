/**
 * Up and down sections of files written for dbmate or node-pg-migrate, so that their
 * histories run unmodified. dbmate runs what follows `-- migrate:up` up to `-- migrate:down`
 * (dbmate's `transaction:false` on that line is read by directives.ts); node-pg-migrate runs
 * an SQL file's `-- Up Migration` part (its regex, sqlMigration.ts); sql-migrate and goose
 * run what follows `-- +migrate Up` / `-- +goose Up` up to their Down marker. rollout has no down
 * migrations: the rest of the file never runs, and is never linted or parsed.
 *
 * The part that does not run is blanked, not cut: every character but line breaks becomes a
 * space, so every line, column and offset of the part that runs stays where the file has it
 * (errors, lint findings and plan positions point into the real file).
 */

export interface Sections {
  /** The file with what rollout does not run blanked out; the file itself when it has no markers. */
  runnable: string;
  /** 1-based line ranges, inclusive, that do not run (the down section, text before an up marker). */
  notRun: [number, number][];
}

const DBMATE_UP = /^--\s*migrate:up\b/m;
const DBMATE_DOWN = /^--\s*migrate:down\b/m;
const PGM_UP = /^\s*--[\s-]*up\s+migration/im;
const PGM_DOWN = /^\s*--[\s-]*down\s+migration/im;
// sql-migrate's `-- +migrate Up` / `-- +migrate Down` and goose's `-- +goose Up` / `-- +goose Down` (both Go tools).
const GO_UP = /^\s*--\s*\+(?:migrate|goose)\s+up\b/im;
const GO_DOWN = /^\s*--\s*\+(?:migrate|goose)\s+down\b/im;
const GOOSE_NO_TRANSACTION = /^\s*--\s*\+goose\s+no\s+transaction\b/im;

export function sectionsOf(sql: string): Sections {
  const dbmateUp = DBMATE_UP.exec(sql);
  if (dbmateUp || DBMATE_DOWN.test(sql)) {
    const from = dbmateUp?.index ?? 0;
    return keep(sql, from, after(DBMATE_DOWN, sql, from));
  }
  const up = PGM_UP.exec(sql);
  if (up || PGM_DOWN.test(sql)) {
    const from = up?.index ?? 0;
    return keep(sql, from, after(PGM_DOWN, sql, from));
  }
  const goUp = GO_UP.exec(sql);
  if (goUp || GO_DOWN.test(sql)) {
    // goose writes `-- +goose NO TRANSACTION` above its Up marker: kept (a comment), for directives.ts to read.
    const noTransaction = GOOSE_NO_TRANSACTION.exec(sql);
    const from = Math.min(goUp?.index ?? 0, noTransaction?.index ?? Infinity);
    return keep(sql, from, after(GO_DOWN, sql, from));
  }
  return { runnable: sql, notRun: [] };
}

/** Where the first match of a marker at or after `from` starts; the end of the text when none. */
function after(marker: RegExp, sql: string, from: number): number {
  const found = marker.exec(sql.slice(from));
  return found ? from + found.index : sql.length;
}

function keep(sql: string, from: number, to: number): Sections {
  const blank = (text: string): string => text.replace(/[^\r\n]/g, ' ');
  const runnable = blank(sql.slice(0, from)) + sql.slice(from, to) + blank(sql.slice(to));
  const lineAt = (offset: number): number => sql.slice(0, offset).split('\n').length;
  const lastLine = lineAt(sql.length);
  const notRun: [number, number][] = [];
  // from sits at the start of the up marker's line (kept, a comment), to at the start of the down marker's.
  if (from > 0) notRun.push([1, lineAt(from) - 1]);
  if (to < sql.length) notRun.push([lineAt(to), lastLine]);
  return { runnable, notRun: notRun.filter(([a, b]) => a <= b) };
}

export const runsLine = (notRun: readonly [number, number][] | undefined, line: number): boolean => !notRun?.some(([a, b]) => line >= a && line <= b);
