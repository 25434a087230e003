/**
 * squawk's findings as a PR reads them: one line per file and rule with its lines and fix,
 * and low risk where the table is new in the same pending set. squawk from node_modules.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrationFiles } from '../../actions/engine/migrate/files.ts';
import { LINT_UNAVAILABLE, describeLines, findSquawk, groupLintFindings, lintMigrations, type LintFinding } from '../../actions/engine/migrate/lint.ts';
import { prepareMigrations } from '../../actions/engine/migrate/prepare.ts';
import { writeMigrations } from './support/migrations.ts';

describe('migration lint', () => {
  let root: string;
  let findings: LintFinding[];
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-lint-'));
    await writeMigrations(root, {
      '1_orders.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint, note text);',
      '2_orders_indexes.sql': 'CREATE INDEX orders_customer ON orders (customer);\nCREATE INDEX orders_note ON orders (note);',
      '3_accounts.sql': 'CREATE INDEX accounts_a ON accounts (a);\nCREATE INDEX accounts_b ON accounts (b);\nALTER TABLE accounts ADD COLUMN tier text NOT NULL;',
      '4_maybe.sql': 'CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\nCREATE INDEX CONCURRENTLY users_email ON users (email);',
      // Written for psql: pg_dump's \restrict line and inline COPY data, which are not SQL.
      '5_psql.sql': '\\restrict k3y\nCOPY accounts (a) FROM stdin;\nx\n\\.\nCREATE INDEX accounts_c ON accounts (c);\n\\unrestrict k3y\n',
      // Prisma's shape: a unique index made with its table, replaced by a later migration (DROP INDEX names no table).
      '6_plans.sql': 'CREATE TABLE "Plan" (id bigint PRIMARY KEY, "customerId" text);\nCREATE UNIQUE INDEX "Plan_customerId_key" ON "Plan" ("customerId");',
      '7_plans_index.sql': '-- DropIndex\nDROP INDEX "Plan_customerId_key";\nDROP INDEX "public"."orders_note";\nDROP INDEX accounts_a;\nDROP INDEX orders_customer, accounts_b;\nDROP TABLE "Plan", accounts;',
    });
    const { files } = await readMigrationFiles(root, 'migrations');
    // As a plan prepares them: only files the pre-scan cannot classify are parsed (none here), and
    // lint loads the parser itself for the low-risk reading of its risky findings.
    const { prepared } = await prepareMigrations(files, 170_000, { parse: 'needed' });
    expect(prepared.filter((m) => m.statements).map((m) => m.file.name)).toEqual(['maybe']);
    findings = await lintMigrations(prepared, {});
  }, 60_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('groups a rule that fires on several lines of a file into one, with squawk\'s fix', () => {
    const groups = groupLintFindings(findings);
    const accounts = groups.filter((g) => g.file === 'migrations/3_accounts.sql');
    expect(accounts.map((g) => [g.rule, g.severity, describeLines(g.lines), g.lowRisk])).toEqual([
      ['require-concurrent-index-creation', 'error', 'lines 1, 2', undefined],
      ['adding-required-field', 'error', 'line 3', undefined],
    ]);
    expect(accounts[0].help).toMatch(/concurrently/i);
  });

  it('marks findings on a table created earlier in the same pending set as low risk, not errors', () => {
    const orders = groupLintFindings(findings).filter((g) => g.file === 'migrations/2_orders_indexes.sql');
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ rule: 'require-concurrent-index-creation', severity: 'warning', lines: [1, 2], lowRisk: 'public.orders is created by migrations/1_orders.sql in this same set of pending migrations, so nothing reads or writes it yet' });
    // CREATE TABLE IF NOT EXISTS may find the table there already: no claim of low risk from it.
    expect(findings.filter((f) => f.file === 'migrations/4_maybe.sql' && f.lowRisk)).toEqual([]);
  });

  it('marks DROP INDEX of an index on a table new in the pending set as low risk: the index names its table', () => {
    const drops = groupLintFindings(findings).filter((g) => g.file === 'migrations/7_plans_index.sql');
    expect(drops.map((g) => [g.rule, g.severity, describeLines(g.lines), g.lowRisk])).toEqual([
      ['require-concurrent-index-deletion', 'warning', 'lines 2, 3', 'public.Plan is created by migrations/6_plans.sql in this same set of pending migrations, so nothing reads or writes it yet'],
      // accounts is not created here: dropping its index locks a table in use, even beside a new table's index.
      ['require-concurrent-index-deletion', 'error', 'lines 4, 5', undefined],
      ['ban-drop-table', 'error', 'line 6', undefined],
    ]);
  });

  it('lints the SQL that runs in a file written for psql, at the lines the file has', () => {
    const psql = findings.filter((f) => f.file === 'migrations/5_psql.sql');
    expect(psql.map((f) => [f.rule, f.line])).toEqual([['require-concurrent-index-creation', 5]]);
  });

  it('says when squawk cannot run, instead of finding nothing', async () => {
    expect(findSquawk({ ROLLOUT_SQUAWK: join(root, 'nope') })).toEqual({ unavailable: `ROLLOUT_SQUAWK names ${join(root, 'nope')}, which does not exist` });
    expect('path' in findSquawk({})).toBe(true);
    const { files } = await readMigrationFiles(root, 'migrations');
    const { prepared } = await prepareMigrations(files.slice(0, 1), 170_000, { parse: 'all' });
    // The variables are the caller's, not this process's.
    expect((await lintMigrations(prepared, { ROLLOUT_SQUAWK: join(root, 'nope') })).map((f) => f.rule)).toEqual([LINT_UNAVAILABLE]);
  });
});
