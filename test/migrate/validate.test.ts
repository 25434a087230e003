/**
 * `rollout validate` checks migrations without a database: names, plain files sharing a
 * version, directives, syntax with the real parser, and extensions the embedded database
 * cannot provide, each at file:line:column, so the no-database CI gate catches them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../actions/cli/main.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rollout-validate-migrations-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

async function validate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['validate', '--root', root, ...args], { stdout: { write: (s: string) => void out.push(s), isTTY: false }, stderr: { write: (s: string) => void err.push(s) } }, {});
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const SERVER_ENV = 'version: 1\ndatabase:\n  url_env: STAGING_DATABASE_URL\n';
const EMBEDDED_ENV = 'version: 1\ndatabase:\n  embedded: .rollout/local\n';
const lines = (n: number): string => Array.from({ length: n }, (_, i) => `-- line ${i + 1}`).join('\n');

describe('rollout validate: migrations', () => {
  it('reports a syntax error at line 40 of a migration with its line and column, and exits 1', async () => {
    write({
      'environments/staging.yaml': SERVER_ENV,
      'migrations/0001_ok.sql': 'CREATE TABLE ok (id int);\n',
      'migrations/0002_bad.sql': `${lines(39)}\nCREATE TABLE orders (id int, total numeric(12,2) DEFAULT 0 NOT NULL,);\n`,
    });
    const run = await validate();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('migrations/0002_bad.sql:40:69: error: Syntax error: syntax error at or near ")"');
    // The offending line is shown under the problem.
    expect(run.stdout).toContain('   40 | CREATE TABLE orders');
  });

  it('reports bad file names, plain files sharing a version, and bad directives, all at once', async () => {
    write({
      'environments/staging.yaml': SERVER_ENV,
      'migrations/0001_orders.sql': 'CREATE TABLE orders (id int);\n',
      'migrations/0001_dup.sql': 'CREATE TABLE dup (id int);\n',
      'migrations/create_users.sql': 'CREATE TABLE users (id int);\n',
      'migrations/0002_timeout.sql': '-- rollout:lock_timeout=5 minutes\nSELECT 1;\n',
      'migrations/init/migration.sql': 'SELECT 1;\n',
    });
    const run = await validate('--format', 'json');
    expect(run.code).toBe(1);
    const problems = JSON.parse(run.stdout) as { file: string; line: number; column: number; message: string }[];
    expect(problems.map((p) => [p.file, p.line, p.column, p.message.slice(0, 60)])).toEqual([
      ['migrations/0001_orders.sql', 1, 1, 'Migration version 0001 of migrations/0001_orders.sql is alre'],
      ['migrations/0002_timeout.sql', 1, 4, "Invalid rollout:lock_timeout '5 minutes'. Expected a duratio"],
      ['migrations/create_users.sql', 1, 1, "Migration file name 'create_users.sql' is not <version>_<nam"],
      ['migrations/init/migration.sql', 1, 1, "Migration folder name 'init' is not <version>_<name>. Expect"],
    ]);
    expect(problems[0].message).toContain('already used by migrations/0001_dup.sql');
  });

  it("warns where timestamps of two widths run in another order than dbmate's and Supabase's name order, at the file that runs early; numbered files are left alone", async () => {
    write({
      'environments/staging.yaml': `${SERVER_ENV}migrations:\n  directory: supabase/migrations\n`,
      'supabase/migrations/00000000000001_schema.sql': 'SELECT 1;\n',
      'supabase/migrations/20240526_close.sql': 'SELECT 1;\n',
      'supabase/migrations/20240718223009_invites.sql': 'SELECT 1;\n',
      'supabase/migrations/20251201155709_recover.sql': 'SELECT 1;\n',
      'supabase/migrations/20251208_recovery.sql': 'SELECT 1;\n',
      'supabase/migrations/20260629144634_grants.sql': 'SELECT 1;\n',
    });
    const run = await validate('--format', 'json');
    expect(run.code).toBe(0);
    const problems = JSON.parse(run.stdout) as { file: string; line: number; column: number; severity: string; message: string }[];
    expect(problems).toEqual([
      {
        file: 'supabase/migrations/20251208_recovery.sql', line: 1, column: 1, severity: 'warning',
        message:
          "supabase/migrations/20251208_recovery.sql (version 20251208, 8 digits) runs before 20240718223009_invites.sql, 20251201155709_recover.sql (14 digits): rollout orders files by version as a number, " +
          "but dbmate and Supabase's CLI order them by name, which puts it after. Give every version one width before it is applied anywhere (e.g. 20251208000000_recovery.sql), or check that this order is the one you mean.",
      },
    ]);
    rmSync(join(root, 'supabase'), { recursive: true });
    write({ 'supabase/migrations/9_first.sql': 'SELECT 1;\n', 'supabase/migrations/10_second.sql': 'SELECT 1;\n' });
    expect(JSON.parse((await validate('--format', 'json')).stdout)).toEqual([]);
  });

  it('refuses, for an embedded environment only, an extension PGlite cannot provide', async () => {
    write({
      'environments/local.yaml': EMBEDDED_ENV,
      'environments/staging.yaml': SERVER_ENV,
      'migrations/20240101000000_init/migration.sql': 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";\nCREATE EXTENSION IF NOT EXISTS postgis;\n',
    });
    const all = await validate();
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('migrations/20240101000000_init/migration.sql:2:1: error: Extension "postgis" is not available on the embedded database (PGlite)');
    expect(all.stdout).toContain('in environments/local.yaml, set database: { url_env: NAME }');
    expect(all.stdout).not.toContain('uuid-ossp" is not available');
    const staging = await validate('--env', 'staging');
    expect(staging).toMatchObject({ code: 0, stderr: '' });
  });

  it('passes a clean history of Prisma folders that share a timestamp', async () => {
    write({
      'environments/staging.yaml': SERVER_ENV,
      'migrations/20240304123642_traces_view/migration.sql': 'CREATE VIEW traces_view AS SELECT 1 AS id;\n',
      'migrations/20240304123642_traces_view_improvement/migration.sql': 'CREATE OR REPLACE VIEW traces_view AS SELECT 1 AS id, 2 AS n;\n',
      'migrations/migration_lock.toml': 'provider = "postgresql"\n',
    });
    expect(await validate()).toEqual({ code: 0, stdout: '✓ 1 environment(s) valid: staging\n', stderr: '' });
  });
});
