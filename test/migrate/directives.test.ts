import { describe, expect, it } from 'vitest';
import { parseDirectives } from '../../actions/engine/migrate/directives.ts';

const read = (sql: string) => parseDirectives('m.sql', sql);

describe('parseDirectives', () => {
  it('reads transaction and timeout directives and rejects bad ones with positions', () => {
    const { directives, problems } = read('-- rollout:transaction=off\n-- rollout:lock_timeout=10s\n--rollout:statement_timeout=1h\n-- rollout:lock_timeout=soon\n-- rollout:colour=blue');
    expect(directives).toEqual({ transaction: false, lockTimeoutMs: 10_000, statementTimeoutMs: 3_600_000 });
    expect(problems.map((p) => [p.line, p.message.split('.')[0]])).toEqual([
      [4, "Invalid rollout:lock_timeout 'soon'"],
      [5, "Unknown directive 'rollout:colour'"],
    ]);
  });

  it('finds no directive in a file without any', () => {
    expect(read('CREATE TABLE t (id int);\n-- a comment\n')).toEqual({ directives: {}, problems: [] });
  });

  it('reads transaction=on, spaces around the = and CRLF line breaks', () => {
    expect(read('SELECT 1;\r\n  --  rollout:transaction = on  \r\nSELECT 2;').directives).toEqual({ transaction: true });
  });

  it('reads a directive followed by a comment of its own, as the docs write them', () => {
    expect(read('-- rollout:transaction=off          -- statement by statement\n-- rollout:lock_timeout=10s -- this file only').directives).toEqual({ transaction: false, lockTimeoutMs: 10_000 });
    expect(read('-- rollout:lock_timeout=  -- forgot the value').problems.map((p) => p.message)).toEqual([
      "Invalid rollout:lock_timeout ''. Expected a duration such as 500ms, 10s, 5min or 1h, or 0 for none.",
    ]);
  });

  it('takes "0" as no timeout, for either timeout', () => {
    expect(read('-- rollout:lock_timeout=0\n-- rollout:statement_timeout=0').directives).toEqual({ lockTimeoutMs: 0, statementTimeoutMs: 0 });
    expect(read('-- rollout:statement_timeout=500ms').directives).toEqual({ statementTimeoutMs: 500 });
  });

  it('says what was wrong and what is expected, at the directive\'s line and column', () => {
    const { directives, problems } = read('SELECT 1;\n   -- rollout:transaction=maybe\n-- rollout:statement_timeout=10 s\n-- rollout:lock_timeout=');
    expect(directives).toEqual({});
    expect(problems).toEqual([
      { file: 'm.sql', line: 2, column: 7, severity: 'error', message: "Invalid rollout:transaction 'maybe'. Expected on or off." },
      {
        file: 'm.sql', line: 3, column: 4, severity: 'error',
        message: "Invalid rollout:statement_timeout '10 s'. Expected a duration such as 500ms, 10s, 5min or 1h, or 0 for none.",
      },
      { file: 'm.sql', line: 4, column: 4, severity: 'error', message: "Invalid rollout:lock_timeout ''. Expected a duration such as 500ms, 10s, 5min or 1h, or 0 for none." },
    ]);
  });

  it('names the known directives when one is unknown', () => {
    expect(read('-- rollout:lock=1s').problems.map((p) => p.message)).toEqual([
      "Unknown directive 'rollout:lock'. Expected rollout:transaction, rollout:lock_timeout or rollout:statement_timeout.",
    ]);
  });

  it('only reads a directive that is the whole comment line', () => {
    for (const sql of ["SELECT 'rollout:transaction=off';", 'SELECT 1; -- rollout:transaction=off', '-- see rollout:transaction in the docs', '-- rollout: transaction=off']) {
      expect(read(sql), sql).toEqual({ directives: {}, problems: [] });
    }
  });

  it("runs a dbmate file marked transaction:false outside a transaction, unless a rollout directive says otherwise", () => {
    expect(read('-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\n').directives).toEqual({ transaction: false });
    expect(read('--migrate:up  notransaction transaction:false\nSELECT 1;').directives).toEqual({ transaction: false });
    expect(read('-- rollout:transaction=on\n-- migrate:up transaction:false\nSELECT 1;').directives).toEqual({ transaction: true });
    for (const sql of ['-- migrate:up\nSELECT 1;', '-- migrate:down transaction:false\nSELECT 1;', '-- migrate:up transaction:falsey\nSELECT 1;', 'SELECT 1; -- migrate:up transaction:false', '-- migrate:up\n-- transaction:false\nSELECT 1;']) {
      expect(read(sql).directives, sql).toEqual({});
    }
  });
});
