/**
 * The hash-chained ledger against every way around its triggers: entries rewritten, removed
 * and inserted out of order under session_replication_role = replica (once the triggers fire
 * only in origin mode), with a trigger disabled, and with a trigger dropped. Each time
 * `rollout audit` names the first bad entry and plan and status warn; apply re-creates the
 * protection; a trigger of the same name on another table no longer stands in for it. On the
 * embedded database and, with TEST_DATABASE_URL, a real server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { loadEnvironment } from '../../actions/engine/config/repository.ts';
import { readPlan } from '../../actions/engine/plan/read-plan.ts';
import { renderPlan } from '../../actions/engine/render/plan.ts';
import { readOnly } from '../../actions/engine/session.ts';
import { readStatus, renderStatusText } from '../../actions/engine/status/status.ts';
import { auditLedger, renderAuditText, type LedgerIntegrity } from '../../actions/engine/store/ledger-audit.ts';
import { commitFlagChanges } from '../../actions/engine/store/flag-writer.ts';
import { ensureToolSchema } from '../../actions/engine/store/tool-schema.ts';

/**
 * One open database for a stretch of a test: statements as a superuser types them in psql,
 * and what audit, plan and status report, read in-process on the same connection. On the
 * embedded database every separate command costs a start of PGlite, so tests use few.
 */
interface Live {
  sql<T = Record<string, unknown>>(text: string): Promise<T[]>;
  audit(options?: { expectHead?: string }): Promise<{ integrity: LedgerIntegrity; text: string }>;
  planText(): Promise<string>;
  statusText(): Promise<string>;
}

async function live<T>(db: TestDatabase, fn: (session: Live) => Promise<T>): Promise<T> {
  const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
  try {
    const client = await database.connect();
    const env = () => loadEnvironment(db.root, 'test').environment;
    return await fn({
      async sql<R>(text: string) {
        const results = (await client.query(text)) as unknown as { rows: R[] }[] | { rows: R[] };
        return Array.isArray(results) ? (results.at(-1)?.rows ?? []) : results.rows;
      },
      async audit(options = {}) {
        const integrity = await readOnly(client, () => auditLedger(client, 'test', options));
        return { integrity, text: renderAuditText(integrity) };
      },
      async planText() {
        const { plan } = await readOnly(client, () => readPlan(client, { root: db.root, env: env(), processEnv: db.processEnv, commit: null }));
        return renderPlan(plan, 'text');
      },
      async statusText() {
        return renderStatusText(await readOnly(client, () => readStatus(client, env())), new Date());
      },
    });
  } finally {
    await database.close();
  }
}

const flags = (version: number) => `flags:\n  ranker.policy:\n    value: { version: v${version}, epsilon: 0.${version} }\n`;

/**
 * Ledger entries 1, 2 and 6 of environment test (the gap is what rolled-back applies leave),
 * written as apply writes them (commitFlagChanges), in one session: on the embedded database
 * every separate command costs a start of PGlite.
 */
async function threeEntries(db: TestDatabase): Promise<void> {
  const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
  try {
    const client = await database.connect();
    await ensureToolSchema(client);
    for (const version of [1, 2, 3]) {
      if (version === 3) await client.query("SELECT nextval(pg_get_serial_sequence('rollout.ledger', 'id')) FROM generate_series(1, 3)");
      const value = { version: `v${version}`, epsilon: version / 10 };
      await commitFlagChanges(
        client,
        'rollout.flags',
        { environment: 'test', kind: 'apply', actor: 'tester', commit: null, pullRequest: null, planHash: null, outcome: 'applied', summary: { flags: 1 } },
        [{ subject: 'flag', key: 'ranker.policy', action: version === 1 ? 'add' : 'change', oldValue: null, newValue: value }],
        [{ key: 'ranker.policy', value, position: null }],
      );
    }
  } finally {
    await database.close();
  }
  await writeEnvironment(db, flags(3));
}

describe.each(databaseTargets())('the hash-chained ledger, on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await threeEntries(db);
  });
  afterEach(() => db.dispose());

  it('audits intact, and the head published by apply is the chain head', async () => {
    const [last] = await live(db, (l) => l.sql<{ id: string; hash: string }>('SELECT id, hash FROM rollout.ledger ORDER BY id DESC LIMIT 1'));
    const text = await cliOn(db, ['audit', '--env', 'test']);
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toContain(`Ledger of test: 3 entries, hash chain intact; head #${last.id} ${last.hash}.`);
    expect(text.stdout).toContain('Append-only triggers on rollout.ledger and rollout.ledger_changes: in place, firing ALWAYS.');

    await writeEnvironment(db, flags(4));
    const applied = await cliOn(db, ['apply', '--env', 'test']);
    const status = await cliOn(db, ['status', '--env', 'test']);
    await live(db, async (l) => {
      const [head] = await l.sql<{ id: string; hash: string; prev_hash: string }>('SELECT id, hash, prev_hash FROM rollout.ledger ORDER BY id DESC LIMIT 1');
      expect(head.prev_hash).toBe(last.hash);
      expect(applied.stdout).toContain(`ledger head #${head.id} ${head.hash}`);
      expect(status.stdout).toContain(`Ledger head: #${head.id} ${head.hash}`);
      expect(status.stdout).not.toContain('⚠');
      expect((await l.audit()).integrity).toMatchObject({ entries: 4, breaks: [], triggers: [], ok: true, head: { id: Number(head.id), hash: head.hash } });
      expect((await l.audit({ expectHead: last.hash.slice(0, 16) })).integrity.ok).toBe(true);
    });
  });

  it('hashes exactly what it reads back, whatever the values', async () => {
    const tricky = {
      text: 'naïve ☃ 𝄞 "quoted" \\ back\nline\ttab',
      numbers: [0, -0, 1e21, 123456789012345680000, 0.1 + 0.2, -1.5e-7, 33.333333333333336, Number.MAX_SAFE_INTEGER],
      keys: { '10': 'numeric-like key first', b: null, a: [], '': 'empty key', __proto__x: { nested: { deeper: [true, false] } } },
    };
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      await commitFlagChanges(
        client,
        'rollout.flags',
        { environment: 'test', kind: 'break-glass', actor: 'ünïcode åctor', commit: 'c'.repeat(40), pullRequest: 42, planHash: 'f'.repeat(64), outcome: 'applied', reason: 'why: "because"', summary: tricky },
        [
          { subject: 'flag', key: 'ranker.policy', action: 'change', oldValue: { version: 'v3', epsilon: 0.3 }, newValue: tricky, oldStage: 'canary', newStage: 'full', oldPercent: 33.333333333333336, newPercent: 100 },
          { subject: 'migration', key: 'migrations/0001_a.sql', action: 'applied' },
        ],
        [{ key: 'ranker.policy', value: tricky, position: { stage: 'full', percent: null } }],
      );
      expect((await readOnly(client, () => auditLedger(client, 'test')))).toMatchObject({ entries: 4, breaks: [], ok: true });
    } finally {
      await database.close();
    }
  });

  it('replica mode cannot rewrite it once the triggers fire ALWAYS; with origin-mode triggers it can, and audit names the entry', async () => {
    await live(db, async (l) => {
      await expect(l.sql("SET session_replication_role = replica; UPDATE rollout.ledger SET actor = 'mallory' WHERE id = 2")).rejects.toThrow(/append-only/);
      await l.sql('RESET session_replication_role');
      // The triggers as an older rollout created them: ordinary (origin-mode) triggers.
      await l.sql('ALTER TABLE rollout.ledger ENABLE TRIGGER ledger_append_only; ALTER TABLE rollout.ledger_changes ENABLE TRIGGER ledger_changes_append_only');
      expect(await l.planText()).toContain('⚠ ledger protection: the trigger refusing UPDATE and DELETE on rollout.ledger does not fire ALWAYS: SET session_replication_role = replica skips it; the next apply re-creates it.');
      await l.sql(`SET session_replication_role = replica; UPDATE rollout.ledger SET actor = 'mallory' WHERE id = 2;
                   UPDATE rollout.ledger_changes SET new_value = '{"version": "evil"}' WHERE ledger_id = 2; RESET session_replication_role`);
      const { integrity, text } = await l.audit();
      expect(integrity.ok).toBe(false);
      expect(text).toContain('hash chain BROKEN. First bad entry: #2.');
      expect(text).toMatch(/✗ entry #2 \(apply by mallory, .*\) no longer matches its hash: it, or one of its changes, was altered after it was written/);
      expect(integrity.breaks.map((b) => [b.id, b.kind])).toEqual([[2, 'changed']]);
      expect(await l.planText()).toContain("⚠ the ledger's hash chain is broken: entry #2 (apply by mallory");
      expect(await l.statusText()).toContain("⚠ the ledger's hash chain is broken: entry #2 (apply by mallory");
    });
    const audited = await cliOn(db, ['audit', '--env', 'test']);
    expect(audited.code).toBe(1);
    // Apply re-creates the protection; the broken link stays on record.
    await writeEnvironment(db, flags(4));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await live(db, async (l) => {
      const { integrity } = await l.audit();
      expect(integrity.triggers).toEqual([]);
      expect(integrity.breaks.map((b) => b.id)).toEqual([2]);
      await expect(l.sql('SET session_replication_role = replica; DELETE FROM rollout.ledger_changes WHERE ledger_id = 6')).rejects.toThrow(/append-only/);
    });
  });

  it('a disabled trigger lets an entry be removed: audit names the entry after the gap', async () => {
    await live(db, (l) => l.sql('ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only; ALTER TABLE rollout.ledger_changes DISABLE TRIGGER ledger_changes_append_only'));
    const plan = await cliOn(db, ['plan', '--env', 'test']);
    expect(plan.stdout).toContain('⚠ ledger protection: the trigger refusing UPDATE and DELETE on rollout.ledger is disabled');
    await live(db, async (l) => {
      await l.sql('DELETE FROM rollout.ledger_changes WHERE ledger_id = 2; DELETE FROM rollout.ledger WHERE id = 2');
      const { integrity } = await l.audit();
      expect(integrity.breaks).toEqual([{ id: 6, kind: 'link', message: 'entry #6 does not follow #1: an entry between them was removed, or #6 was inserted out of order' }]);
      expect(await l.statusText()).toContain("⚠ the ledger's hash chain is broken: entry #6 does not follow #1");
    });
    // health (the scheduled job) says it too, on stderr, whatever its monitors say.
    const health = await cliOn(db, ['health', '--env', 'test']);
    expect(health.stderr).toContain("warning: the ledger's hash chain is broken: entry #6 does not follow #1");
    expect(health.stderr).toContain('warning: ledger protection: the trigger refusing UPDATE and DELETE on rollout.ledger is disabled');
  });

  it('a dropped trigger lets an entry be inserted out of order: audit names it, with or without a forged hash', async () => {
    await live(db, async (l) => {
      await l.sql('DROP TRIGGER ledger_append_only ON rollout.ledger');
      expect(await l.planText()).toContain('⚠ ledger protection: no trigger on rollout.ledger refuses UPDATE and DELETE (dropped?)');
      // In the gap before entry 6: first with no hash at all, …
      await l.sql(`INSERT INTO rollout.ledger (id, environment, kind, actor, outcome) OVERRIDING SYSTEM VALUE VALUES (4, 'test', 'apply', 'mallory', 'applied')`);
      let result = await l.audit();
      expect(result.integrity.breaks[0]).toEqual({ id: 4, kind: 'unhashed', message: 'entry #4 has no hash but comes after #2, which has one: it was inserted outside rollout, or its hash was erased' });
      expect(await l.planText()).toContain("⚠ the ledger's hash chain is broken: entry #4 has no hash but comes after #2");
      // … then with a hash that links to the entry before it, as someone who read the code would forge.
      await l.sql(`UPDATE rollout.ledger SET prev_hash = (SELECT hash FROM rollout.ledger WHERE id = 2), hash = repeat('a', 64) WHERE id = 4`);
      result = await l.audit();
      expect(result.integrity.breaks.map((b) => [b.id, b.kind])).toEqual([[4, 'changed'], [6, 'link']]);
      expect(result.text).toContain('First bad entry: #4.');
    });
  });

  it('detects entries removed from the end only against a published head', async () => {
    await live(db, async (l) => {
      const [last] = await l.sql<{ hash: string }>('SELECT hash FROM rollout.ledger ORDER BY id DESC LIMIT 1');
      await l.sql(`ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only; ALTER TABLE rollout.ledger_changes DISABLE TRIGGER ledger_changes_append_only;
                   DELETE FROM rollout.ledger_changes WHERE ledger_id = 6; DELETE FROM rollout.ledger WHERE id = 6;
                   ALTER TABLE rollout.ledger ENABLE ALWAYS TRIGGER ledger_append_only; ALTER TABLE rollout.ledger_changes ENABLE ALWAYS TRIGGER ledger_changes_append_only`);
      expect((await l.audit()).integrity.ok).toBe(true); // the chain alone cannot tell
      const against = await l.audit({ expectHead: last.hash });
      expect(against.integrity.ok).toBe(false);
      expect(against.text).toContain(`✗ the published head ${last.hash} is not in the chain: entries were removed from its end, or the chain was rewritten.`);
      return last.hash;
    }).then(async (hash) => expect((await cliOn(db, ['audit', '--env', 'test', '--head', hash.slice(0, 12)])).code).toBe(1));
  });

  it('covers entries written before the chain existed, from the first apply after the upgrade', async () => {
    // A ledger as an older rollout left it: no chain columns.
    await live(db, async (l) => {
      await l.sql('ALTER TABLE rollout.ledger DROP COLUMN hash, DROP COLUMN prev_hash');
      expect((await l.audit()).text).toContain('Ledger of test: 3 entries, written before the hash chain existed; the next apply starts the chain over them.');
      expect(await l.planText()).not.toContain('⚠');
    });
    await writeEnvironment(db, flags(4));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await live(db, async (l) => {
      const upgraded = await l.audit();
      expect(upgraded.integrity).toMatchObject({ entries: 4, legacy: 3, breaks: [], ok: true });
      expect(upgraded.text).toContain('3 entries predate the chain and are covered from the first chained entry on.');
      await l.sql("ALTER TABLE rollout.ledger DISABLE TRIGGER ledger_append_only; UPDATE rollout.ledger SET reason = 'nothing happened' WHERE id = 1");
      expect((await l.audit()).integrity.breaks.map((b) => [b.id, b.kind])).toEqual([[7, 'link']]);
    });
  });
});

describe.each(databaseTargets())('the append-only triggers, on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('are created on the ledger tables even when another table has triggers of the same names', async () => {
    await live(db, (l) => l.sql(`CREATE TABLE public.decoy (id int);
      CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
      CREATE TRIGGER ledger_append_only BEFORE UPDATE ON public.decoy FOR EACH ROW EXECUTE FUNCTION public.noop();
      CREATE TRIGGER ledger_changes_append_only BEFORE UPDATE ON public.decoy FOR EACH ROW EXECUTE FUNCTION public.noop()`));
    await writeEnvironment(db, flags(1));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await live(db, async (l) => {
      await expect(l.sql("UPDATE rollout.ledger SET actor = 'mallory'")).rejects.toThrow(/rollout: ledger is append-only \(UPDATE refused\)/);
      await expect(l.sql('DELETE FROM rollout.ledger_changes')).rejects.toThrow(/rollout: ledger_changes is append-only \(DELETE refused\)/);
      await expect(l.sql('TRUNCATE rollout.ledger_changes')).rejects.toThrow(/append-only \(TRUNCATE refused\)/);
      expect((await l.audit()).integrity.triggers).toEqual([]);
    });
  });

  it('are re-created by apply when a trigger function was neutered', async () => {
    await writeEnvironment(db, flags(1));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await live(db, async (l) => {
      await l.sql('CREATE OR REPLACE FUNCTION rollout.refuse_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$');
      expect(await l.statusText()).toContain('⚠ ledger protection: rollout.refuse_ledger_rewrite() was replaced: it may no longer refuse rewrites');
    });
    await writeEnvironment(db, flags(2));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(0);
    await live(db, async (l) => {
      expect((await l.audit()).integrity).toMatchObject({ triggers: [], breaks: [], ok: true });
      await expect(l.sql("UPDATE rollout.ledger SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    });
  });
});
