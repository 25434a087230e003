/**
 * The explain check with `analyze: true` (seed 002's EXPLAIN ANALYZE), through `rollout
 * verify` on a real database (embedded, and a server with TEST_DATABASE_URL): it runs the
 * SELECT and counts an index scan only if it actually ran, and EXPLAIN ANALYZE of anything
 * but a plain SELECT — or of a SELECT whose function would write — is refused, with nothing
 * changed afterwards.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import type { CheckReport, CheckResult } from '../../actions/engine/checks/index.ts';

const MIGRATION = `
CREATE TABLE public.movements (id serial PRIMARY KEY, name text NOT NULL, owner_id int);
INSERT INTO public.movements (name, owner_id) SELECT 'movement ' || g, g % 4 FROM generate_series(1, 12) g;
CREATE INDEX movements_owner_idx ON public.movements (owner_id);
GRANT SELECT ON SEQUENCE public.movements_id_seq TO PUBLIC;
-- Functions that would write, owned by the applying role (SECURITY DEFINER: its rights, not the checks role's):
-- only the READ ONLY transaction stops them.
CREATE FUNCTION public.record_movement() RETURNS int LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS
  $$BEGIN INSERT INTO public.movements (name, owner_id) VALUES ('written by a check', 1); RETURN 1; END$$;
CREATE FUNCTION public.bump_movement_id() RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER AS
  $$SELECT nextval('public.movements_id_seq')$$;
`;

const explain = (name: string, sql: string, index = 'public.movements_owner_idx'): string =>
  `  - name: ${name}\n    explain:\n      analyze: true\n      uses_index: ${index}\n      sql: ${JSON.stringify(sql)}\n`;

const CHECKS =
  'checks:\n' +
  explain('owner 2 uses the index', 'SELECT * FROM public.movements WHERE owner_id = 2') +
  // An init plan decides at run time that the scan is never entered: EXPLAIN plans it, ANALYZE shows it never ran.
  explain('a scan that never runs', 'SELECT * FROM public.movements WHERE owner_id = 2 AND (SELECT count(*) FROM public.movements WHERE id = 1) = 0') +
  `  - name: the same scan without analyze\n    explain:\n      uses_index: public.movements_owner_idx\n      sql: "SELECT * FROM public.movements WHERE owner_id = 2 AND (SELECT count(*) FROM public.movements WHERE id = 1) = 0"\n` +
  explain('analyze of DELETE', 'DELETE FROM public.movements WHERE owner_id = 2') +
  explain('analyze of INSERT', "INSERT INTO public.movements (name, owner_id) VALUES ('x', 2)") +
  explain('analyze of UPDATE', 'UPDATE public.movements SET owner_id = 2') +
  explain('analyze of DDL', 'CREATE TABLE public.copied AS SELECT * FROM public.movements') +
  explain('analyze of a writing CTE', 'WITH gone AS (DELETE FROM public.movements RETURNING *) SELECT * FROM gone') +
  explain('analyze of a SELECT calling nextval', "SELECT nextval('public.movements_id_seq'), * FROM public.movements WHERE owner_id = 2") +
  explain('analyze of a SELECT whose function inserts', 'SELECT public.record_movement(), * FROM public.movements WHERE owner_id = 2') +
  explain('analyze of a SELECT whose function takes a sequence value', 'SELECT public.bump_movement_id(), * FROM public.movements WHERE owner_id = 2');

const UNTOUCHED = `checks:
  - name: still 12 movements
    sql: SELECT count(*) FROM public.movements
    expect: { value: 12 }
  - name: the sequence did not move
    sql: SELECT last_value FROM public.movements_id_seq
    expect: { value: 12 }
  - name: no table was created
    sql: SELECT to_regclass('public.copied')::text
    expect: { value: null }
`;

describe.each(databaseTargets())('explain checks with analyze on $name', (target) => {
  let db: TestDatabase;
  let report: CheckReport;
  let untouched: CheckReport;
  const result = (name: string): CheckResult => {
    const found = report.results.find((r) => r.name === name);
    if (!found) throw new Error(`no result named ${name}`);
    return found;
  };

  beforeAll(async () => {
    db = await target.create();
    await writeEnvironment(db, CHECKS);
    await writeFile(join(db.root, 'migrations', '0001_setup.sql'), MIGRATION);
    const applied = await cliOn(db, ['apply', '--env', 'test', '--no-verify']);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const run = await cliOn(db, ['verify', '--env', 'test', '--format', 'json']);
    report = JSON.parse(run.stdout) as CheckReport;
    await writeEnvironment(db, UNTOUCHED);
    const after = await cliOn(db, ['verify', '--env', 'test', '--format', 'json']);
    untouched = JSON.parse(after.stdout) as CheckReport;
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('runs the SELECT and reports the index scan with its actual rows', () => {
    // owner_id = 2: ids 2, 6, 10.
    expect(result('owner 2 uses the index')).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/^uses index movements_owner_idx \(actual rows 3(\.00)? × 1 loop\)$/) as unknown,
      query: 'EXPLAIN ANALYZE SELECT * FROM public.movements WHERE owner_id = 2',
    });
  });

  it('counts only a scan that actually ran: planned but never entered fails with analyze, passes without', () => {
    expect(result('a scan that never runs')).toMatchObject({ status: 'fail', detail: expect.stringContaining('the executor never ran that scan') as unknown });
    expect(result('the same scan without analyze').status).toBe('pass');
  });

  it.each([
    ['analyze of DELETE', 'EXPLAIN ANALYZE of DELETE is not allowed in a check'],
    ['analyze of INSERT', 'EXPLAIN ANALYZE of INSERT is not allowed in a check'],
    ['analyze of UPDATE', 'EXPLAIN ANALYZE of UPDATE is not allowed in a check'],
    ['analyze of DDL', 'EXPLAIN ANALYZE of DDL (CreateTableAs) is not allowed in a check'],
    ['analyze of a writing CTE', 'DELETE is not allowed in a check (found inside the query'],
    ['analyze of a SELECT calling nextval', 'function nextval() is not allowed in a check'],
  ])('refuses %s before anything is sent', (name, why) => {
    const refused = result(name);
    expect(refused.status).toBe('error');
    expect(refused.detail).toContain('refused, nothing ran');
    expect(refused.detail).toContain(why);
  });

  it.each([
    ['analyze of a SELECT whose function inserts', 'cannot execute INSERT in a read-only transaction'],
    ['analyze of a SELECT whose function takes a sequence value', 'cannot execute nextval() in a read-only transaction'],
  ])('%s: the READ ONLY transaction refuses it as it runs', (name, why) => {
    const refused = result(name);
    expect(refused.status).toBe('error');
    expect(refused.detail).toContain(why);
  });

  it('leaves the data, the sequence and the schema as they were', () => {
    expect(untouched.results.map((r) => [r.name, r.status])).toEqual([
      ['still 12 movements', 'pass'],
      ['the sequence did not move', 'pass'],
      ['no table was created', 'pass'],
    ]);
  });
});
