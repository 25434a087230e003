/**
 * No secret is ever printed: the CLI runs with a password-bearing database URL through
 * plan, apply, status and a series of failures, and everything it prints is scanned.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, TEST_URL_VARIABLE, type TestDatabase } from '../support/databases.ts';
import { cli, type CliRun } from '../support/cli.ts';

const PASSWORD = 'S3cr3t-Pa55word!';
const TOKEN = 'ghp_TopSecretToken1234567890';
const server = databaseTargets().find((t) => t.name === 'server');

describe.runIf(server)('secrets on the server', () => {
  let db: TestDatabase;
  let url: string;
  const runs: CliRun[] = [];
  beforeEach(async () => {
    db = await server!.create();
    const withPassword = new URL(db.url!);
    withPassword.password = encodeURIComponent(PASSWORD);
    url = withPassword.toString();
  });
  afterEach(() => db.dispose());

  const run = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => {
    const result = await cli(['--root', db.root, ...args], { [TEST_URL_VARIABLE]: url, GITHUB_TOKEN: TOKEN, ...env });
    runs.push(result);
    return result;
  };

  it('never prints the password or a token, whatever happens', { timeout: 120_000 }, async () => {
    const env = (body: string) => writeFile(join(db.root, 'environments/test.yaml'), `version: 1\ndatabase:\n  url_env: ${TEST_URL_VARIABLE}\n${body}`);
    await mkdir(join(db.root, 'environments'), { recursive: true });
    await mkdir(join(db.root, 'migrations'), { recursive: true });
    await env('flags:\n  a:\n    value: 1\n');
    await writeFile(join(db.root, 'migrations/0001_ok.sql'), 'CREATE TABLE t (id int);');

    expect((await run(['plan', '--env', 'test'])).code).toBe(0);
    expect((await run(['plan', '--env', 'test', '--format', 'markdown'])).code).toBe(0);
    expect((await run(['apply', '--env', 'test'])).code).toBe(0);
    expect((await run(['status', '--env', 'test'])).code).toBe(0);
    expect((await run(['migrate', 'status', '--env', 'test'])).code).toBe(0);

    // Failures: a failing migration, an unreachable server, a missing database, a file with a URL in it.
    await writeFile(join(db.root, 'migrations/0002_bad.sql'), `SELECT 1;\nSELECT * FROM no_such_table WHERE note = '${url}';`);
    expect((await run(['apply', '--env', 'test'])).code).toBe(1);
    const unreachable = new URL(url);
    unreachable.port = '1';
    expect((await run(['plan', '--env', 'test'], { [TEST_URL_VARIABLE]: unreachable.toString() })).code).not.toBe(0);
    const missing = new URL(url);
    missing.pathname = '/rollout_no_such_database';
    expect((await run(['apply', '--env', 'test'], { [TEST_URL_VARIABLE]: missing.toString() })).code).not.toBe(0);
    await env(`description: see ${url}\nflags:\n  a:\n    value: "${url}"\n`);
    expect((await run(['validate'])).code).toBe(1);
    expect((await run(['validate', '--format', 'json'])).code).toBe(1);
    expect((await run(['validate', '--format', 'github'])).code).toBe(1);
    expect((await run(['plan', '--env', 'test'])).code).toBe(1);

    const printed = runs.map((r) => r.stdout + r.stderr).join("\n");
    if (process.env.SHOW_SECRETS_TEST_OUTPUT) console.log(printed);
    expect(printed).toContain('***');
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), TOKEN]) expect(printed).not.toContain(secret);
    expect(printed).not.toMatch(/\n\s+at .*\.ts:\d+/);
  });
});
