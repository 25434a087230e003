/**
 * The flag store, the ledger and its audit against a database, called as apply, plan, status
 * and audit call them. One database per target for the whole file (on the embedded database a
 * start costs seconds, and mutation testing runs these tests once per mutant): each test writes
 * under an environment and flag keys of its own, and what breaks the tool's tables (tampering,
 * an older version's layout, a database rollout never touched) happens inside a transaction
 * that is rolled back. On the embedded database and, with TEST_DATABASE_URL, a real server.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { openDatabase, type Database } from '../../actions/engine/db/index.ts';
import { LockTimeoutError } from '../../actions/engine/errors.ts';
import { commitFlagChanges, withFlagTransaction, type FlagWrite } from '../../actions/engine/store/flag-writer.ts';
import { appendLedger, lastLedgerId, readLedger, type LedgerMeta } from '../../actions/engine/store/ledger.ts';
import { chainTip, ledgerHead, quickChainCheck, RECENT_ENTRIES } from '../../actions/engine/store/ledger-chain.ts';
import { auditLedger, readIntegrityWarnings } from '../../actions/engine/store/ledger-audit.ts';
import { readLiveState } from '../../actions/engine/store/live-state.ts';
import { ensureToolSchema, ledgerTriggerProblems } from '../../actions/engine/store/tool-schema.ts';
import { readUnfinishedRestore } from '../../actions/engine/store/unfinished-restore.ts';

/** A name no other test of the file uses: environments and flag keys share one database. */
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

const meta = (environment: string, overrides: Partial<LedgerMeta> = {}): LedgerMeta => ({
  environment,
  kind: 'apply',
  actor: 'alice',
  commit: null,
  pullRequest: null,
  planHash: null,
  outcome: 'applied',
  ...overrides,
});

describe.each(databaseTargets())('the flag store on $name', (target) => {
  let db: TestDatabase;
  let database: Database;
  let client: pg.Client;

  beforeAll(async () => {
    db = await target.create();
    database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    client = await database.connect();
    await ensureToolSchema(client);
  });

  afterAll(async () => {
    await database?.close();
    await db?.dispose();
  });

  /** Run `fn` in a transaction that is rolled back, whatever it did to the tool's tables. */
  async function rolledBack<T>(fn: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      return await fn();
    } finally {
      await client.query('ROLLBACK');
    }
  }

  /** Entries written as apply writes them, one flag transaction each; their ids. */
  async function entries(environment: string, n: number, overrides: Partial<LedgerMeta> = {}): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(await commitFlagChanges(client, 'rollout.flags', meta(environment, overrides), [{ subject: 'flag', key: `${environment}.k`, action: 'change', newValue: i }], []));
    return ids;
  }

  const tamper = (sql: string) => client.query(`ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only; ALTER TABLE rollout.ledger_changes DISABLE TRIGGER ledger_changes_append_only; ${sql}`);

  describe('the ledger', () => {
    it('reads back every field of an entry and its changes in order, newest entry first', async () => {
      const env = unique('ledger');
      const first = await appendInTransaction(env, meta(env, { kind: 'break-glass', actor: 'bob', commit: 'abc123', pullRequest: 42, planHash: 'p1', outcome: 'killed', reason: 'burn rate', summary: { flags: 2 } }), [
        { subject: 'flag', key: 'b', action: 'change', oldValue: { v: 1 }, newValue: { v: 2 }, oldStage: 'dark', newStage: 'canary', oldPercent: 5, newPercent: 12.5 },
        { subject: 'migration', key: '001_init', action: 'apply' },
      ]);
      const second = await appendInTransaction(env, meta(env), []);
      const read = await readLedger(client, { environment: env });
      expect(read.map((e) => e.id)).toEqual([second, first]);
      expect(read[1]).toMatchObject({
        id: first, environment: env, kind: 'break-glass', actor: 'bob', commit: 'abc123', pullRequest: 42, planHash: 'p1', outcome: 'killed', reason: 'burn rate', summary: { flags: 2 },
        changes: [
          { subject: 'flag', key: 'b', action: 'change', oldValue: { v: 1 }, newValue: { v: 2 }, oldStage: 'dark', newStage: 'canary', oldPercent: 5, newPercent: 12.5 },
          { subject: 'migration', key: '001_init', action: 'apply', oldValue: null, newValue: null, oldStage: null, newStage: null, oldPercent: null, newPercent: null },
        ],
      });
      expect(read[1].at).toBeInstanceOf(Date);
      expect(read[0]).toMatchObject({ reason: null, summary: {}, changes: [] });
      expect(await lastLedgerId(client, env)).toBe(second);
      expect(await lastLedgerId(client, unique('none'))).toBeNull();
    });

    it('reads the latest 20 entries unless told how many, of one environment or of all', async () => {
      const env = unique('many');
      const ids = await entries(env, 21);
      expect((await readLedger(client, { environment: env })).map((e) => e.id)).toEqual(ids.slice(1).reverse());
      expect((await readLedger(client, { environment: env, limit: 2 })).map((e) => e.id)).toEqual([ids[20], ids[19]]);
      const other = unique('other');
      const [last] = await entries(other, 1);
      expect((await readLedger(client, { limit: 2 })).map((e) => [e.id, e.environment])).toEqual([[last, other], [ids[20], env]]);
    });

    it('is empty, with no head, on a database rollout never wrote', async () => {
      await rolledBack(async () => {
        await client.query('DROP SCHEMA rollout CASCADE');
        expect(await readLedger(client)).toEqual([]);
        expect(await ledgerHead(client, 'x')).toBeNull();
        expect(await ledgerTriggerProblems(client)).toEqual([]);
        expect(await auditLedger(client, 'x')).toEqual({ environment: 'x', entries: 0, legacy: 0, head: null, breaks: [], triggers: [], unchained: false, ok: true });
        expect(await auditLedger(client, 'x', { expectHead: 'ABC' })).toMatchObject({ ok: false, missingHead: 'abc' });
      });
    });

    it('links each entry to the one before it; its head is the last entry', async () => {
      const env = unique('chain');
      expect(await ledgerHead(client, env)).toBeNull();
      expect(await chainTip(client, env)).toBeNull();
      const ids = await entries(env, 3);
      const { rows } = await client.query<{ id: string; prev_hash: string | null; hash: string }>('SELECT id, prev_hash, hash FROM rollout.ledger WHERE environment = $1 ORDER BY id', [env]);
      expect(rows[0].prev_hash).toBeNull();
      expect(rows[1].prev_hash).toBe(rows[0].hash);
      expect(rows[2].prev_hash).toBe(rows[1].hash);
      expect(await ledgerHead(client, env)).toEqual({ id: ids[2], hash: rows[2].hash });
      for (const quick of [false, true]) {
        expect(await auditLedger(client, env, { quick })).toEqual({ environment: env, entries: 3, legacy: 0, head: { id: ids[2], hash: rows[2].hash }, breaks: [], triggers: [], unchained: false, ok: true });
      }
      // A head published earlier, by a prefix in any case, is still in the chain; one that never was is not.
      expect(await auditLedger(client, env, { expectHead: rows[1].hash.slice(0, 12).toUpperCase() })).toMatchObject({ ok: true });
      expect(await auditLedger(client, env, { expectHead: rows[1].hash.slice(0, 12).toUpperCase() })).not.toHaveProperty('missingHead');
      expect(await auditLedger(client, env, { expectHead: 'ffffffffffff' })).toMatchObject({ ok: false, missingHead: 'ffffffffffff' });
      expect(await auditLedger(client, unique('empty'), { expectHead: 'ffffffffffff' })).toMatchObject({ ok: false, missingHead: 'ffffffffffff', head: null });
    });

    it('finds an entry changed, removed, or inserted without a hash: the full walk and the quick check alike', async () => {
      const env = unique('tampered');
      const ids = await entries(env, 4);
      await rolledBack(async () => {
        await tamper(`UPDATE rollout.ledger SET actor = 'mallory' WHERE id = ${ids[1]}`);
        for (const quick of [false, true]) {
          const audit = await auditLedger(client, env, { quick });
          expect(audit.ok).toBe(false);
          expect(audit.breaks).toEqual([expect.objectContaining({ id: ids[1], kind: 'changed' })]);
        }
      });
      await rolledBack(async () => {
        await tamper(`DELETE FROM rollout.ledger_changes WHERE ledger_id = ${ids[2]}; DELETE FROM rollout.ledger WHERE id = ${ids[2]}`);
        for (const quick of [false, true]) {
          expect((await auditLedger(client, env, { quick })).breaks).toEqual([
            { id: ids[3], kind: 'link', message: `entry #${ids[3]} does not follow #${ids[1]}: an entry between them was removed, or #${ids[3]} was inserted out of order` },
          ]);
        }
      });
      await rolledBack(async () => {
        await tamper(`DELETE FROM rollout.ledger_changes WHERE ledger_id = ${ids[0]}; DELETE FROM rollout.ledger WHERE id = ${ids[0]}`);
        for (const quick of [false, true]) {
          expect((await auditLedger(client, env, { quick })).breaks).toEqual([
            { id: ids[1], kind: 'link', message: `entry #${ids[1]} is the first of the environment but links to an earlier entry: the entries before it were removed` },
          ]);
        }
      });
      await rolledBack(async () => {
        const { rows: [row] } = await client.query<{ id: string }>(`INSERT INTO rollout.ledger (environment, kind, actor, outcome) VALUES ($1, 'apply', 'eve', 'applied') RETURNING id`, [env]);
        for (const quick of [false, true]) {
          expect((await auditLedger(client, env, { quick })).breaks).toEqual([
            { id: Number(row.id), kind: 'unhashed', message: `entry #${row.id} has no hash but comes after #${ids[3]}, which has one: it was inserted outside rollout, or its hash was erased` },
          ]);
        }
      });
    });

    it('the quick check hashes only the latest entries again, and still finds every broken link', async () => {
      const env = unique('long');
      const ids = await appendMany(env, RECENT_ENTRIES + 2);
      expect(await auditLedger(client, env, { quick: true })).toMatchObject({ entries: RECENT_ENTRIES + 2, legacy: 0, breaks: [], ok: true, head: { id: ids.at(-1) } });
      await rolledBack(async () => {
        // The oldest entry edited in place, its hash left as it was: only the full walk rehashes it.
        await tamper(`UPDATE rollout.ledger SET actor = 'mallory' WHERE id = ${ids[0]}`);
        expect((await auditLedger(client, env, { quick: true })).breaks).toEqual([]);
        expect((await auditLedger(client, env)).breaks).toEqual([expect.objectContaining({ id: ids[0], kind: 'changed' })]);
      });
      await rolledBack(async () => {
        // An entry of the latest ones changed: found by its content, not only by the link after it.
        await tamper(`UPDATE rollout.ledger SET actor = 'mallory' WHERE id = ${ids.at(-2)}`);
        expect((await quickChainCheck(client, env)).breaks).toEqual([expect.objectContaining({ id: ids.at(-2), kind: 'changed' })]);
      });
      await rolledBack(async () => {
        // The oldest entry's hash rewritten (as a recomputed one would be): not rehashed, but the link after it breaks.
        await tamper(`UPDATE rollout.ledger SET hash = repeat('0', 64) WHERE id = ${ids[0]}`);
        expect((await quickChainCheck(client, env)).breaks).toEqual([
          { id: ids[1], kind: 'link', message: `entry #${ids[1]} does not follow #${ids[0]}: an entry between them was removed, or #${ids[1]} was inserted out of order` },
        ]);
      });
    });

    it('covers entries written before the chain existed from the first entry appended after them', async () => {
      const env = unique('legacy');
      await client.query(`INSERT INTO rollout.ledger (environment, kind, actor, outcome) SELECT $1, 'apply', 'old', 'applied' FROM generate_series(1, ${RECENT_ENTRIES + 1})`, [env]);
      const legacyTip = await chainTip(client, env);
      expect(legacyTip).toMatch(/^[0-9a-f]{64}$/);
      const [id] = await entries(env, 1);
      const { rows: [row] } = await client.query<{ prev_hash: string }>('SELECT prev_hash FROM rollout.ledger WHERE id = $1', [id]);
      expect(row.prev_hash).toBe(legacyTip);
      for (const quick of [false, true]) {
        expect(await auditLedger(client, env, { quick })).toMatchObject({ entries: RECENT_ENTRIES + 2, legacy: RECENT_ENTRIES + 1, breaks: [], ok: true, head: { id } });
      }
    });

    it('reads one environment\'s entries only, whichever environment wrote last', async () => {
      const env = unique('mine');
      const [mine] = await entries(env, 1);
      await entries(unique('theirs'), 1);
      expect((await readLedger(client, { environment: env })).map((e) => e.id)).toEqual([mine]);
    });

    it('hashes percents as they are read back: a canary step audits clean', async () => {
      const env = unique('percent');
      await commitFlagChanges(client, 'rollout.flags', meta(env), [{ subject: 'flag', key: 'f', action: 'stage', oldStage: 'canary', newStage: 'canary', oldPercent: 5, newPercent: 12.5 }], []);
      expect(await auditLedger(client, env)).toMatchObject({ breaks: [], ok: true });
    });

    it('is not ok with a broken chain alone, nor with weakened protection alone', async () => {
      const env = unique('ok');
      const ids = await entries(env, 2);
      await rolledBack(async () => {
        await tamper(`UPDATE rollout.ledger SET actor = 'mallory' WHERE id = ${ids[0]}`);
        await client.query('ALTER TABLE rollout.ledger ENABLE ALWAYS TRIGGER ledger_append_only; ALTER TABLE rollout.ledger_changes ENABLE ALWAYS TRIGGER ledger_changes_append_only');
        expect(await auditLedger(client, env)).toMatchObject({ triggers: [], breaks: [{ id: ids[0] }], ok: false });
      });
      await rolledBack(async () => {
        await client.query('ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only');
        expect(await auditLedger(client, env)).toMatchObject({ triggers: ['the trigger refusing UPDATE and DELETE on rollout.ledger is disabled'], breaks: [], ok: false });
      });
    });

    it('a ledger older than the chain is reported unchained, every entry legacy', async () => {
      const env = unique('unchained');
      await entries(env, 2);
      await rolledBack(async () => {
        await client.query('ALTER TABLE rollout.ledger DROP COLUMN hash, DROP COLUMN prev_hash');
        expect(await auditLedger(client, env)).toEqual({ environment: env, entries: 2, legacy: 2, head: null, breaks: [], triggers: [], unchained: true, ok: true });
      });
    });
  });

  describe('the append-only protection', () => {
    it('is whole after ensureToolSchema, and a second run changes nothing', async () => {
      await ensureToolSchema(client);
      expect(await ledgerTriggerProblems(client)).toEqual([]);
    });

    it('names each way it was weakened', async () => {
      const problems = (sql: string) => rolledBack(async () => {
        await client.query(sql);
        return ledgerTriggerProblems(client);
      });
      expect(await problems('DROP FUNCTION rollout.refuse_ledger_rewrite() CASCADE')).toEqual([
        'the trigger function rollout.refuse_ledger_rewrite() is missing',
        'no trigger on rollout.ledger refuses UPDATE and DELETE (dropped?)',
        'no trigger on rollout.ledger refuses TRUNCATE (dropped?)',
        'no trigger on rollout.ledger_changes refuses UPDATE and DELETE (dropped?)',
        'no trigger on rollout.ledger_changes refuses TRUNCATE (dropped?)',
      ]);
      expect(await problems('CREATE OR REPLACE FUNCTION rollout.refuse_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$')).toEqual([
        'rollout.refuse_ledger_rewrite() was replaced: it may no longer refuse rewrites',
      ]);
      expect(await problems('ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only')).toEqual(['the trigger refusing UPDATE and DELETE on rollout.ledger is disabled']);
      expect(await problems('ALTER TABLE rollout.ledger_changes ENABLE TRIGGER ledger_changes_append_only_truncate')).toEqual([
        'the trigger refusing TRUNCATE on rollout.ledger_changes does not fire ALWAYS: SET session_replication_role = replica skips it',
      ]);
      // A trigger that refuses DELETE only, or calls another function, does not stand for it.
      expect(await problems(`DROP TRIGGER ledger_append_only ON rollout.ledger;
        CREATE TRIGGER ledger_append_only BEFORE DELETE ON rollout.ledger FOR EACH ROW EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
        ALTER TABLE rollout.ledger ENABLE ALWAYS TRIGGER ledger_append_only`)).toEqual(['no trigger on rollout.ledger refuses UPDATE and DELETE (dropped?)']);
      expect(await problems(`CREATE FUNCTION rollout.other() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        DROP TRIGGER ledger_append_only_truncate ON rollout.ledger;
        CREATE TRIGGER ledger_append_only_truncate BEFORE TRUNCATE ON rollout.ledger FOR EACH STATEMENT EXECUTE FUNCTION rollout.other();
        ALTER TABLE rollout.ledger ENABLE ALWAYS TRIGGER ledger_append_only_truncate`)).toEqual(['no trigger on rollout.ledger refuses TRUNCATE (dropped?)']);
      // One of two that fires ALWAYS is enough; a disabled one beside an origin-mode one is not.
      expect(await problems(`CREATE TRIGGER second BEFORE TRUNCATE ON rollout.ledger FOR EACH STATEMENT EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
        ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only_truncate`)).toEqual([
        'the trigger refusing TRUNCATE on rollout.ledger does not fire ALWAYS: SET session_replication_role = replica skips it',
      ]);
      expect(await problems(`CREATE TRIGGER second BEFORE TRUNCATE ON rollout.ledger FOR EACH STATEMENT EXECUTE FUNCTION rollout.refuse_ledger_rewrite();
        ALTER TABLE rollout.ledger DISABLE TRIGGER second`)).toEqual([]);
    });

    it('is rebuilt by ensureToolSchema when a trigger was disabled', async () => {
      await client.query('ALTER TABLE rollout.ledger_changes DISABLE TRIGGER ledger_changes_append_only');
      expect(await ledgerTriggerProblems(client)).toHaveLength(1);
      await ensureToolSchema(client);
      expect(await ledgerTriggerProblems(client)).toEqual([]);
    });
  });

  describe('the warnings plan, status and health print', () => {
    it('one per problem of the chain, and an unfinished restore with the command that finishes it', async () => {
      const env = unique('warn');
      expect(await readIntegrityWarnings(client, env, { quick: true })).toEqual({ head: null, warnings: [] });
      const [id] = await entries(env, 1, { kind: 'restore', outcome: 'started', summary: { backup: 'backups/x.dump', option: '--backup' } });
      const { head, warnings } = await readIntegrityWarnings(client, env, { quick: false });
      expect(head?.id).toBe(id);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`restore #${id} of backups/x.dump`);
      await rolledBack(async () => {
        await tamper(`UPDATE rollout.ledger SET actor = 'mallory' WHERE id = ${id}`);
        const { warnings: tampered } = await readIntegrityWarnings(client, env, { quick: true });
        expect(tampered[0]).toMatch(/^the ledger's hash chain is broken: entry #\d+ \(restore by mallory/);
      });
    });

    it('a role that may not read the ledger gets a warning saying what to grant, not a failure', async () => {
      const role = unique('reader').replace('-', '_');
      await rolledBack(async () => {
        await client.query(`CREATE ROLE ${role}; GRANT USAGE ON SCHEMA rollout TO ${role}; SET LOCAL ROLE ${role}`);
        const { head, warnings } = await readIntegrityWarnings(client, 'x', { quick: true });
        expect(head).toBeNull();
        expect(warnings).toEqual([expect.stringMatching(/^the ledger could not be verified: permission denied .* \(grant SELECT on rollout\.ledger and rollout\.ledger_changes to this role\)\.$/)]);
      });
    });

    it('other failures are not hidden', async () => {
      await rolledBack(async () => {
        await client.query('ALTER TABLE rollout.ledger RENAME COLUMN environment TO env');
        await expect(readIntegrityWarnings(client, 'x', { quick: true })).rejects.toMatchObject({ code: '42703' });
      });
    });
  });

  describe('an unfinished restore', () => {
    it('is the latest restore entry of the environment when its outcome is started', async () => {
      const env = unique('restore');
      expect(await readUnfinishedRestore(client, env)).toBeNull();
      const [started] = await entries(env, 1, { kind: 'restore', actor: 'carol', outcome: 'started', summary: { backup: 'ci/x.dump', sha256: 'ab12', option: '--from', into: 'copy' } });
      await entries(env, 1); // an apply after it does not finish it
      await entries(unique('elsewhere'), 1, { kind: 'restore', outcome: 'restored' });
      expect(await readUnfinishedRestore(client, env)).toEqual({ id: started, at: expect.any(Date) as unknown, actor: 'carol', backup: 'ci/x.dump', sha256: 'ab12', option: '--from', into: 'copy' });
      await entries(env, 1, { kind: 'restore', outcome: 'started', summary: {} });
      expect(await readUnfinishedRestore(client, env)).toMatchObject({ backup: null, sha256: null, option: '--backup', into: null });
      await entries(env, 1, { kind: 'restore', outcome: 'restored' });
      expect(await readUnfinishedRestore(client, env)).toBeNull();
    });
  });

  describe('flag writes', () => {
    const read = async (key: string) => {
      const state = await readLiveState(client, undefined);
      const { rows } = await client.query<{ value: unknown }>('SELECT value FROM rollout.flags WHERE key = $1', [key]);
      return { flag: state.flags.get(key), rollout: state.rollouts.get(key), plain: rows[0]?.value, state };
    };

    it('a plain flag: the value table holds its value, the ledger entry is the one that wrote it', async () => {
      const key = unique('plain');
      const id = await commitFlagChanges(client, 'rollout.flags', meta(unique('env')), [], [{ key, value: { s: 'x', n: 1.5 }, position: null }]);
      const { flag, rollout, plain, state } = await read(key);
      expect(state).toMatchObject({ flagTable: 'rollout.flags', flagTableExists: true });
      expect(plain).toEqual({ s: 'x', n: 1.5 });
      expect(flag).toMatchObject({ value: { s: 'x', n: 1.5 }, text: '{"n": 1.5, "s": "x"}' });
      expect(rollout).toMatchObject({ stage: null, percent: null, stageSince: null, recordedKind: 'apply', ledgerId: id, recordedValue: { s: 'x', n: 1.5 } });
      expect(rollout?.definition).toMatchObject({ offValue: null, segments: [], killSwitch: false });
      expect(rollout?.definition).not.toHaveProperty('override');
      // One parse for the same text: the value table's value and the definition's are one object.
      expect(flag?.stored?.value).toBe(rollout?.definition?.value);
    });

    it('a staged flag: the value table never serves more than its stage; soak time runs from when the position moved', async () => {
      const key = unique('staged');
      const env = unique('env');
      const write = (position: FlagWrite['position'], serving = { offValue: { on: false }, segments: [{ name: 'internal', keys: ['u1'] }], killSwitch: false }) =>
        commitFlagChanges(client, 'rollout.flags', meta(env), [], [{ key, value: { on: true }, position, serving }]);
      await write({ stage: 'canary', percent: 12.5 } as never);
      const first = await read(key);
      expect(first.plain).toEqual({ on: false });
      expect(first.flag).toMatchObject({ value: { on: true }, stored: { value: { on: false } } });
      expect(first.rollout).toMatchObject({ stage: 'canary', percent: 12.5, recordedValue: { on: false } });
      expect(first.rollout?.definition).toMatchObject({ value: { on: true }, offValue: { on: false }, segments: [{ name: 'internal', keys: ['u1'] }] });
      expect(first.rollout?.stageSince).toBeInstanceOf(Date);
      await write({ stage: 'canary', percent: 12.5 } as never);
      expect((await read(key)).rollout?.stageSince).toEqual(first.rollout?.stageSince);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await write({ stage: 'canary', percent: 25 } as never);
      const moved = (await read(key)).rollout?.stageSince;
      expect(moved?.getTime()).toBeGreaterThan(first.rollout?.stageSince?.getTime() ?? Infinity);
      await write({ stage: 'full', percent: null } as never);
      expect((await read(key)).plain).toEqual({ on: true });
    });

    it('break-glass sets an override every reader serves, keeping the definition; the next apply clears it', async () => {
      const key = unique('kill');
      const env = unique('env');
      await commitFlagChanges(client, 'rollout.flags', meta(env), [], [{ key, value: false, position: { stage: 'dark', percent: null } as never, serving: { offValue: false, segments: [], killSwitch: true } }]);
      await commitFlagChanges(client, 'rollout.flags', meta(env, { kind: 'break-glass' }), [], [{ key, value: false, position: { stage: 'dark', percent: null } as never, override: true }]);
      const killed = await read(key);
      expect(killed.plain).toBe(true);
      expect(killed.flag).toMatchObject({ value: true, text: 'true' });
      expect(killed.rollout).toMatchObject({ recordedKind: 'break-glass', recordedValue: true });
      expect(killed.rollout?.definition).toMatchObject({ value: false, offValue: false, killSwitch: true, override: true, overrideText: 'true' });
      // A second break-glass write without an override keeps the one set.
      await commitFlagChanges(client, 'rollout.flags', meta(env, { kind: 'break-glass' }), [], [{ key, value: false, position: { stage: 'dark', percent: null } as never }]);
      expect((await read(key)).plain).toBe(true);
      await commitFlagChanges(client, 'rollout.flags', meta(env), [], [{ key, value: false, position: { stage: 'dark', percent: null } as never, serving: { offValue: false, segments: [], killSwitch: true } }]);
      const cleared = await read(key);
      expect(cleared.plain).toBe(false);
      expect(cleared.rollout?.definition).not.toHaveProperty('override');
    });

    it('a flag removed from Git is removed from both tables', async () => {
      const key = unique('gone');
      const keep = unique('kept');
      const env = unique('env');
      await commitFlagChanges(client, 'rollout.flags', meta(env), [], [{ key, value: 1, position: null }, { key: keep, value: 2, position: null }]);
      await commitFlagChanges(client, 'rollout.flags', meta(env), [], [{ key, position: null }]);
      const { flag, rollout, plain } = await read(key);
      expect([flag, rollout, plain]).toEqual([undefined, undefined, undefined]);
      expect((await read(keep)).plain).toBe(2);
    });

    it('writes into the environment\'s own flag table', async () => {
      const table = `app_${randomBytes(3).toString('hex')}.feature flags`;
      const [schema] = table.split('.');
      await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}."feature flags" (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz)`);
      const key = unique('own');
      await commitFlagChanges(client, table, meta(unique('env')), [], [{ key, value: 'x', position: null }]);
      const state = await readLiveState(client, table);
      expect(state).toMatchObject({ flagTable: table, flagTableExists: true });
      expect(state.flags.get(key)).toMatchObject({ value: 'x', stored: { value: 'x', text: '"x"' } });
      expect((await readLiveState(client, `${schema}.missing`)).flagTableExists).toBe(false);
    });

    it('announces the entry and the keys it wrote on rollout_flags, at commit', async () => {
      const env = unique('env');
      const key = unique('heard');
      const heard: string[] = [];
      const listen = (n: pg.Notification) => heard.push(n.payload ?? '');
      await client.query('LISTEN rollout_flags');
      client.on('notification', listen);
      try {
        await commitFlagChanges(client, 'rollout.flags', meta(env), [], []);
        const id = await commitFlagChanges(client, 'rollout.flags', meta(env), [], [{ key, value: 1, position: null }]);
        for (let i = 0; i < 100 && heard.length === 0; i++) await client.query('SELECT 1');
        expect(heard.map((p) => JSON.parse(p) as unknown)).toEqual([{ ledger_id: id, keys: [key] }]);
      } finally {
        client.off('notification', listen);
        await client.query('UNLISTEN rollout_flags');
      }
    });

    it('writes nothing when the transaction fails before its commit; beforeCommit sees the entry id', async () => {
      const env = unique('env');
      const key = unique('never');
      let seen: number | undefined;
      await expect(
        commitFlagChanges(client, 'rollout.flags', meta(env), [{ subject: 'flag', key, action: 'add' }], [{ key, value: 1, position: null }], async (id) => {
          seen = id;
          expect((await client.query('SELECT 1 FROM rollout.ledger WHERE id = $1', [id])).rowCount).toBe(1);
          throw new Error('crash');
        }),
      ).rejects.toThrow('crash');
      expect(seen).toEqual(expect.any(Number));
      expect(await lastLedgerId(client, env)).toBeNull();
      expect((await read(key)).plain).toBeUndefined();
    });

    it('a lock wait that ran out says who to wait for; other errors pass through as they are', async () => {
      const env = unique('env');
      const lockError = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
      const failure = await withFlagTransaction(client, env, () => Promise.reject(lockError)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(LockTimeoutError);
      expect(failure).toMatchObject({
        message: `Flag writes to "${env}" waited more than 5 s for a lock on the flag store (canceling statement due to lock timeout). Another session holds it, e.g. a migration that alters the flag table: retry when it is done.`,
        cause: lockError,
      });
      const other = Object.assign(new Error('boom'), { code: '23505' });
      await expect(withFlagTransaction(client, env, () => Promise.reject(other))).rejects.toBe(other);
      expect(await withFlagTransaction(client, env, () => Promise.resolve(7))).toBe(7);
    });
  });

  describe('live state', () => {
    it('of a database rollout never touched: no tables, no flags', async () => {
      await rolledBack(async () => {
        await client.query('DROP SCHEMA rollout CASCADE');
        expect(await readLiveState(client, undefined)).toEqual({ flagTable: 'rollout.flags', flagTableExists: false, flags: new Map(), rollouts: new Map() });
      });
    });

    it('of rows an older version wrote: positions without definitions, the value table serving every reader', async () => {
      const key = unique('old');
      await commitFlagChanges(client, 'rollout.flags', meta(unique('env')), [], [{ key, value: 'new', position: { stage: 'canary', percent: 5 } as never, serving: { offValue: 'old', segments: [], killSwitch: false } }]);
      await rolledBack(async () => {
        await client.query('ALTER TABLE rollout.flag_rollouts DROP COLUMN value CASCADE, DROP COLUMN off_value, DROP COLUMN segments, DROP COLUMN override, DROP COLUMN kill_switch');
        const state = await readLiveState(client, undefined);
        expect(state.rollouts.get(key)).toEqual({ stage: 'canary', percent: 5, stageSince: expect.any(Date) as unknown, recordedValue: 'old', recordedText: '"old"', recordedKind: 'apply', ledgerId: expect.any(Number) as unknown });
        expect(state.flags.get(key)).toEqual({ value: 'old', text: '"old"', stored: { value: 'old', text: '"old"' } });
      });
    });

    it('of a definition whose value table row is gone: the definition alone', async () => {
      const key = unique('orphan');
      await commitFlagChanges(client, 'rollout.flags', meta(unique('env')), [], [{ key, value: [1], position: null }]);
      await rolledBack(async () => {
        await client.query('DELETE FROM rollout.flags WHERE key = $1', [key]);
        const state = await readLiveState(client, undefined);
        expect(state.flags.get(key)).toEqual({ value: [1], text: '[1]' });
      });
    });
  });

  /** One entry appended in its own transaction, as a caller of appendLedger does. */
  async function appendInTransaction(env: string, m: LedgerMeta, changes: Parameters<typeof appendLedger>[2]): Promise<number> {
    await client.query('BEGIN');
    try {
      const id = await appendLedger(client, { ...m, environment: env }, changes);
      await client.query('COMMIT');
      return id;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }

  /** Many entries in one transaction (one commit is what costs on the embedded database). */
  async function appendMany(env: string, n: number): Promise<number[]> {
    await client.query('BEGIN');
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(await appendLedger(client, meta(env), [{ subject: 'flag', key: 'k', action: 'change', newValue: i }]));
    await client.query('COMMIT');
    return ids;
  }
});
