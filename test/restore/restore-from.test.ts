/**
 * rollout restore --from: a pg_dump custom-format archive made elsewhere (seed 003's "Restore
 * from CI Dump"), not a backup apply took. On a server it plans (with the file's sha256), then
 * restores and records the sha256 in the ledger entry; a plain SQL dump, a file that is no dump,
 * an embedded environment and --backup with --from are refused, each saying what to do.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPgProgram } from '../../actions/engine/db/pg-tools.ts';
import { dumpFormatOf } from '../../actions/engine/restore/foreign-dump.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { sql } from '../support/sql.ts';

const ENV = `flags:
  ranker.policy:
    value: { epsilon: 0.1 }
`;
const SEED = `CREATE TABLE movements (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO movements SELECT g, 'movement ' || g FROM generate_series(1, 8) g;`;

const movements = async (db: TestDatabase): Promise<number> => (await sql<{ n: number }>(db, 'SELECT count(*)::int AS n FROM movements'))[0].n;

it('tells a custom-format archive from a plain SQL dump by its first bytes, not its name', () => {
  expect(dumpFormatOf(Buffer.from('PGDMP\x01\x0e\x00\x04\x08\x01'))).toBe('custom');
  expect(dumpFormatOf(Buffer.from('--\n-- PostgreSQL database dump\n--\n'))).toBe('plain');
  expect(dumpFormatOf(Buffer.from('\\restrict abc\nSET statement_timeout = 0;'))).toBe('plain');
  expect(dumpFormatOf(Buffer.from('\x1f\x8b\x08\x00'))).toBe('unknown');
});

describe.each(databaseTargets())('rollout restore --from on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeEnvironment(db, ENV);
    await mkdir(join(db.root, 'migrations'), { recursive: true });
    await writeFile(join(db.root, 'migrations', '0001_movements.sql'), SEED);
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await mkdir(join(db.root, 'ci'), { recursive: true });
    await writeFile(join(db.root, 'ci', 'movements.sql'), '--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n');
  });
  afterEach(() => db.dispose());

  it('refuses a plain SQL dump, and --backup with --from, naming the fix', async () => {
    const plain = await cliOn(db, ['restore', '--env', 'test', '--from', join(db.root, 'ci', 'movements.sql'), '--yes']);
    expect(plain.code).toBe(1);
    const said = plain.stdout + plain.stderr;
    if (target.name === 'server') expect(said).toMatch(/movements\.sql is a plain SQL dump\. rollout restores pg_dump custom-format archives only.*pg_dump -Fc/);
    else expect(said).toMatch(/environment "test" has an embedded database, which restores only copies of its own data directory \(--backup\)\. A pg_dump archive restores into a server database/);
    expect(said).not.toMatch(/^\s+at .*:\d+/m);
    const both = await cliOn(db, ['restore', '--env', 'test', '--from', 'a.dump', '--backup', 'b.dump']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--backup and --from name the file to restore twice: give one');
    expect(await movements(db)).toBe(8);
  });

  it.runIf(target.name === 'server')('plans, then restores a CI dump and records its sha256 in the ledger', async () => {
    // The CI dump: pg_dump -Fc of a seeded database, under a name apply never gives.
    const dump = join(db.root, 'ci', 'movements.pgdump');
    await runPgProgram('pg_dump', ['--format=custom', `--file=${dump}`], db.url, 'the CI dump');
    const sha256 = createHash('sha256').update(await readFile(dump)).digest('hex');
    await sql(db, 'DELETE FROM movements WHERE id > 3');
    expect(await movements(db)).toBe(3);

    const preview = await cliOn(db, ['restore', '--env', 'test', '--from', dump]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/backup {4}ci\/movements\.pgdump \(made elsewhere, so when is not known, .*; given by --from: a pg_dump archive made elsewhere\)/);
    expect(preview.stdout).toContain(`sha256    ${sha256} (recorded in the ledger entry)`);
    const command = /To restore: rollout (restore --env test --from \S+movements\.pgdump --yes)$/m.exec(preview.stdout);
    expect(command, preview.stdout).not.toBeNull();
    expect(await movements(db)).toBe(3);

    const run = await cliOn(db, [...command![1].split(' '), '--reason', 'seed 003: restore from the CI dump']);
    expect(run.code, run.stderr).toBe(0);
    expect(await movements(db)).toBe(8);
    // The intent (committed before pg_restore ran, naming --from so that a rerun is printed right), then the outcome.
    const [intent, entry] = await sql<{ kind: string; outcome: string; reason: string; backup: string; sha256: string; option: string | null }>(
      db, "SELECT kind, outcome, reason, summary->>'backup' AS backup, summary->>'sha256' AS sha256, summary->>'option' AS option FROM rollout.ledger WHERE kind = 'restore' ORDER BY id",
    );
    expect(intent).toEqual({ kind: 'restore', outcome: 'started', reason: 'seed 003: restore from the CI dump', backup: 'ci/movements.pgdump', sha256, option: '--from' });
    expect(entry).toEqual({ kind: 'restore', outcome: 'restored', reason: 'seed 003: restore from the CI dump', backup: 'ci/movements.pgdump', sha256, option: null });
    expect((await cliOn(db, ['audit', '--env', 'test'])).code).toBe(0);
  });

  it.runIf(target.name === 'server')('refuses a file that is no pg_dump archive', async () => {
    await writeFile(join(db.root, 'ci', 'movements.dump'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]));
    const run = await cliOn(db, ['restore', '--env', 'test', '--from', join(db.root, 'ci', 'movements.dump')]);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/movements\.dump is not a pg_dump custom-format archive \(it does not start with PGDMP\)\. Make one with pg_dump -Fc/);
  });
});
