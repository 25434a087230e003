/**
 * The I/O half of planning (plan/read-plan.ts) and the upstream the gates read
 * (plan/upstream.ts): what they take from a database and hand to the plan. In-process, on one
 * open connection, as the CLI's plan reads it.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadEnvironment, loadRepository } from '../../actions/engine/config/repository.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { readOnSince, readPlan, type PlanContext } from '../../actions/engine/plan/read-plan.ts';
import { findUpstream, readUpstream, readUpstreamLive, upstreamGates } from '../../actions/engine/plan/upstream.ts';
import { readOnly } from '../../actions/engine/session.ts';
import { appendLedger } from '../../actions/engine/store/ledger.ts';
import { formatInstant } from '../../actions/engine/stages/gates.ts';
import { cliOn, writeEnvironment } from '../support/cli.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { sql } from '../support/sql.ts';

const HOUR = 3_600_000;

describe.each(databaseTargets())('reading a plan and an upstream on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  /** Run `fn` on one connection to the test database, in a read-only snapshot as plan runs. */
  async function onClient<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      return await readOnly(client, () => fn(client));
    } finally {
      await database.close();
    }
  }

  const context = (extra: Partial<PlanContext> = {}): PlanContext => ({
    root: db.root,
    env: loadEnvironment(db.root, 'test').environment,
    processEnv: db.processEnv,
    commit: 'abc123',
    ...extra,
  });

  const apply = async (): Promise<void> => {
    const run = await cliOn(db, ['apply', '--env', 'test']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  };

  it('plans each pending migration with how it runs and its lint findings, what blocks apply, and the ledger head', async () => {
    await writeEnvironment(db, 'flags:\n  shop.banner:\n    value: hello\n');
    await writeFile(join(db.root, 'migrations', '0001_table.sql'), 'CREATE TABLE t (id int);\n');
    await apply();
    await writeFile(join(db.root, 'migrations', '0002_index.sql'), 'CREATE INDEX t_id ON t (id);\n');
    await writeFile(join(db.root, 'migrations', '0003_loose.sql'), '-- rollout:transaction=off\nCREATE INDEX CONCURRENTLY t_id2 ON t (id);\n');
    await writeFile(join(db.root, 'migrations', '0004_own.sql'), 'BEGIN;\nALTER TABLE t ADD COLUMN note text;\nCOMMIT;\n');

    const { plan, live, preview } = await onClient((client) => readPlan(client, context()));
    const byVersion = new Map(preview.prepared.map((p) => [p.file.version.toString(), p]));
    expect(plan.migrations.appliedCount).toBe(1);
    expect(plan.migrations.blockers).toEqual([]);
    expect(plan.migrations.pending.map(({ findings, ...m }) => ({ ...m, rules: findings.map((f) => f.rule) }))).toEqual([
      { version: '2', name: 'index', file: 'migrations/0002_index.sql', checksum: byVersion.get('2')?.file.checksum, transactional: true, rules: ['require-concurrent-index-creation'] },
      { version: '3', name: 'loose', file: 'migrations/0003_loose.sql', checksum: byVersion.get('3')?.file.checksum, transactional: false, rules: ['prefer-robust-stmts'] },
      { version: '4', name: 'own', file: 'migrations/0004_own.sql', checksum: byVersion.get('4')?.file.checksum, transactional: true, rules: [] },
    ]);
    expect(plan.migrations.pending.every((m) => /^[0-9a-f]{64}$/.test(m.checksum))).toBe(true);
    const [finding] = plan.migrations.pending[0].findings;
    expect(finding).toMatchObject({ severity: 'error', line: 1, column: 1 });
    expect(finding.message).toBe('During normal index creation, table updates are blocked, but reads are still allowed.');
    expect(finding.help).toBeTruthy();
    // The flag applied above is live and unchanged: nothing to do for it.
    expect(live.flags.get('shop.banner')?.value).toBe('hello');
    expect(plan.flags).toEqual([]);
    expect(plan.commit).toBe('abc123');

    const [head] = await sql<{ id: string; hash: string }>(db, 'SELECT id::text, hash FROM rollout.ledger ORDER BY id DESC LIMIT 1');
    expect(plan.ledger).toEqual({ head: { id: Number(head.id), hash: head.hash }, warnings: [] });
    // A caller that shows no plan skips the ledger check.
    const { plan: unchecked } = await onClient((client) => readPlan(client, context({ ledgerCheck: false })));
    expect('ledger' in unchecked).toBe(false);
    expect(unchecked.hash).toBe(plan.hash);

    // A file that cannot run blocks apply, with where and why.
    await writeFile(join(db.root, 'migrations', '0005_bad.sql'), '-- rollout:transaction=maybe\nSELECT 1;\n');
    const { plan: blocked } = await onClient((client) => readPlan(client, context()));
    expect(blocked.migrations.blockers).toEqual(["migrations/0005_bad.sql:1:4: Invalid rollout:transaction 'maybe'. Expected on or off."]);
    expect(blocked.summary.blocked).toBe(true);

    // Syntax errors in files the pre-scan classifies (no parser needed to run them): the server
    // finds them all, at line and column, without running anything, and the read-only snapshot
    // goes on after its failed check (the ledger check reads after it).
    await rm(join(db.root, 'migrations', '0005_bad.sql'));
    await writeFile(join(db.root, 'migrations', '0006_typo.sql'), 'ALTER TABLE t ADD COLUMN a text;\nSELEC 1;\n');
    await writeFile(join(db.root, 'migrations', '0007_typo.sql'), 'ALTER TABLE t ADD COLUMN b text;\n\nCREATE TABLE u (id int;\n');
    const { plan: typos } = await onClient((client) => readPlan(client, context()));
    expect(typos.migrations.blockers).toEqual([
      'migrations/0006_typo.sql:2:1: Syntax error: syntax error at or near "SELEC". Fix the SQL; nothing was run.',
      'migrations/0007_typo.sql:3:23: Syntax error: syntax error at or near ";". Fix the SQL; nothing was run.',
    ]);
    // As the parser leaves them: the broken files are not among those that would run.
    expect(typos.migrations.pending.map((m) => m.version)).toEqual(['2', '3', '4']);
    expect(typos.ledger).toEqual({ head: { id: Number(head.id), hash: head.hash }, warnings: [] });
    expect(await sql(db, "SELECT 1 FROM information_schema.columns WHERE table_name = 't' AND column_name IN ('a', 'b')")).toEqual([]);
  });

  it('shows a migration warning in the plan without blocking apply, and says why a finding on a table the pending files create is low risk', async () => {
    await writeEnvironment(db, 'flags:\n  shop.banner:\n    value: hello\n');
    await writeFile(join(db.root, 'migrations', '0001_new.sql'), 'CREATE TABLE v (id int);\n');
    // golang-migrate's pair: the down file never runs, and the plan says so as a warning.
    await writeFile(join(db.root, 'migrations', '0002_pair.up.sql'), 'ALTER TABLE v ADD COLUMN note text;\n');
    await writeFile(join(db.root, 'migrations', '0002_pair.down.sql'), 'ALTER TABLE v DROP COLUMN note;\n');
    await writeFile(join(db.root, 'migrations', '0003_index.sql'), '-- the index, in a file of its own\nCREATE INDEX v_id ON v (id);\n');
    const { plan } = await onClient((client) => readPlan(client, context()));
    expect(plan.migrations.blockers).toEqual([]);
    expect(plan.migrations.warnings).toEqual([expect.stringMatching(/^migrations\/0002_pair\.down\.sql:\d+:\d+: migrations\/0002_pair\.down\.sql is down migrations/)]);
    expect(plan.summary.blocked).toBe(false);
    expect(plan.migrations.pending.map((m) => m.file)).toEqual(['migrations/0001_new.sql', 'migrations/0002_pair.up.sql', 'migrations/0003_index.sql']);
    // The index blocks writes to v, which nobody uses yet: a warning that says why, not an error.
    const finding = plan.migrations.pending[2].findings.find((f) => f.rule === 'require-concurrent-index-creation');
    expect(finding).toMatchObject({ severity: 'warning', line: 2, column: 1 });
    expect(finding?.lowRisk).toBe('public.v is created by migrations/0001_new.sql in this same set of pending migrations, so nothing reads or writes it yet');
  });

  it('reads when each soaked dependency last moved out of off, and gates its dependent on that', async () => {
    const file = (ui: string, beta: string): string => `flags:
  search.index:
    value: true
  search.ui:
    value: true
    off_value: false
    depends_on: [{ flag: search.index, for: 1h }]
    rollout: { stage: ${ui} }
  search.beta:
    value: true
    off_value: false
    rollout: { stage: ${beta} }
`;
    const keys = ['search.index', 'search.ui', 'search.beta'];
    const appliedAt = async (): Promise<Date> => (await sql<{ at: Date }>(db, 'SELECT at FROM rollout.ledger ORDER BY id DESC LIMIT 1'))[0].at;
    await writeEnvironment(db, file('off', 'off'));
    await apply();
    const added = await appliedAt();
    await writeEnvironment(db, file('off', 'dark'));
    await apply();
    const darkened = await appliedAt();
    await writeEnvironment(db, file('off', 'off'));
    await apply();
    // A plain flag counts from when it was added; a staged one from its last move out of off,
    // not from being added at off or moved back to it; search.ui never left off.
    expect(await onClient((client) => readOnSince(client, 'test', keys))).toEqual(new Map([['search.index', added], ['search.beta', darkened]]));
    expect(await onClient((client) => readOnSince(client, 'test', ['search.ui']))).toEqual(new Map());
    expect(await onClient((client) => readOnSince(client, 'production', keys))).toEqual(new Map());

    await writeEnvironment(db, file('dark', 'off'));
    const gateAt = async (now: Date) => (await onClient((client) => readPlan(client, context({ gates: { now } })))).plan.flags.find((f) => f.key === 'search.ui')?.gate;
    const early = await gateAt(new Date(added.getTime() + HOUR / 2));
    expect(early?.allowed).toBe(false);
    expect(early?.reasons.join('\n')).toMatch(/search\.index/);
    const later = await gateAt(new Date(added.getTime() + 2 * HOUR));
    expect(later?.allowed, later?.reasons.join('\n')).toBe(true);
  });

  it("reads an upstream: each flag's position and since when, whether its latest apply held up, or why it cannot be read", async () => {
    // test promotes to production; qa (whose database variable is unset) promotes to preview.
    const body = (limit: number): string => `promotes_to: production
flags:
  search.ui:
    value: true
    off_value: false
    rollout: { stage: dark }
  search.limit:
    value: ${limit}
checks:
  - name: limit at most 5
    sql: SELECT value::text::float8 FROM rollout.flags WHERE key = 'search.limit'
    expect: { between: [0, 5] }
`;
    const other = (name: string, extra: string): Promise<void> =>
      writeFile(join(db.root, 'environments', `${name}.yaml`), `version: 1\ndatabase:\n  url_env: ${name.toUpperCase()}_URL\n${extra}flags:\n  search.limit:\n    value: 1\n`);
    await writeEnvironment(db, body(1));
    await other('production', '');
    await other('qa', 'promotes_to: preview\n');
    await other('preview', '');
    await apply();
    const repository = loadRepository(db.root);
    const environment = (name: string) => loadEnvironment(db.root, name).environment;
    expect(findUpstream(db.root, environment('production'))?.name).toBe('test');
    expect(findUpstream(db.root, environment('production'), repository)?.name).toBe('test');
    expect(findUpstream(db.root, environment('test'))).toBeUndefined();
    expect(await readUpstream(db.root, environment('test'), db.processEnv)).toBeUndefined();

    const [ui] = await sql<{ stage_since: Date }>(db, "SELECT stage_since FROM rollout.flag_rollouts WHERE key = 'search.ui'");
    expect(await readUpstream(db.root, environment('production'), db.processEnv, repository)).toEqual({
      environment: 'test',
      positions: new Map([
        ['search.limit', { position: { stage: null, percent: null }, enteredAt: null }],
        ['search.ui', { position: { stage: 'dark', percent: null }, enteredAt: ui.stage_since }],
      ]),
      checksPassing: true,
    });
    const unreadable = await readUpstream(db.root, environment('preview'), db.processEnv);
    expect(unreadable).toMatchObject({ environment: 'qa', positions: new Map(), checksPassing: false });
    expect(unreadable?.unreadable).toMatch(/QA_URL/);

    // An apply whose checks fail is reverted: the upstream's checks count as failing, saying which entry.
    await writeEnvironment(db, body(9));
    expect((await cliOn(db, ['apply', '--env', 'test'])).code).toBe(1);
    const [revert] = await sql<{ id: string; at: Date; kind: string }>(db, 'SELECT id::text, at, kind FROM rollout.ledger ORDER BY id DESC LIMIT 1');
    expect(revert.kind).toBe('revert');
    // Another environment's entry, written later in the same ledger, does not hide the upstream's own latest.
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      await client.query('BEGIN');
      await appendLedger(client, { environment: 'production', kind: 'apply', actor: 'test', commit: null, pullRequest: null, planHash: null, outcome: 'applied' }, []);
      await client.query('COMMIT');
    } finally {
      await database.close();
    }
    const upstream = await onClient((client) => readUpstreamLive(client, environment('test')));
    expect(upstream).toMatchObject({ environment: 'test', checksPassing: false, checksReason: `ledger #${revert.id} at ${formatInstant(revert.at)} was reverted by its checks` });
    expect(upstreamGates(upstream)).toMatchObject({ environment: 'test', checksPassing: false });
    expect((await readUpstream(db.root, environment('production'), db.processEnv))?.checksPassing).toBe(false);
  });
});
