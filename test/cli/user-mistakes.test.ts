/** Issue 13, defect 6: user mistakes get a message naming the setting and the fix, exit 1 or 2, never 70. */
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { databaseTargets } from '../support/databases.ts';
import { temporaryRepositories } from '../support/repository.ts';

const repo = temporaryRepositories('rollout-mistakes-');
const ENV = 'version: 1\ndatabase:\n  url_env: SHOP_DATABASE_URL\nflags:\n  shop.safe_mode:\n    value: { enabled: false }\n    kill_switch: true\n';

const run = (root: string, args: string[], url?: string) => cli(['--root', root, ...args], url === undefined ? {} : { SHOP_DATABASE_URL: url });
const noStack = (text: string): void => expect(text).not.toMatch(/^\s+at .*:\d+:\d+\)?$|internal error/m);

describe('user mistakes, not internal errors', () => {
  it('a URL with a non-numeric port names the variable and the form, not the password', async () => {
    const root = repo({ 'environments/shop.yaml': ENV });
    const result = await run(root, ['plan', '--env', 'shop'], 'postgres://app:hunter22@127.0.0.1:54x32/shop');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SHOP_DATABASE_URL (the database URL of environment "shop", named by url_env in environments/shop.yaml) has a port that is not a number');
    expect(result.stderr).not.toContain('hunter22');
    noStack(result.stderr);
  });

  it('a database that is down: the variable and host:port tried', async () => {
    const root = repo({ 'environments/shop.yaml': ENV });
    const result = await run(root, ['plan', '--env', 'shop'], 'postgres://app@127.0.0.1:9/shop');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(the URL in SHOP_DATABASE_URL\) at 127\.0\.0\.1:9: .*ECONNREFUSED.*check that the server is running there/);
    noStack(result.stderr);
  });

  it('plan --out and verify --junit into a folder that does not exist: usage error before any work', async () => {
    const root = repo({ 'environments/shop.yaml': ENV });
    const plan = await run(root, ['plan', '--env', 'shop', '--out', `${root}/nope/plan.md`]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain(`--out ${root}/nope/plan.md: the folder ${root}/nope does not exist. Create it first`);
    const verify = await run(root, ['verify', '--env', 'shop', '--junit', 'nope/junit.xml']);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain('the folder');
    noStack(plan.stderr + verify.stderr);
  });

  const server = databaseTargets().find((t) => t.name === 'server');
  it.skipIf(!server)('apply and kill with a read-only URL: the role or standby, and which URL to use', { timeout: 60_000 }, async () => {
    const db = await server!.create();
    try {
      const root = repo({ 'environments/shop.yaml': ENV });
      const readOnly = `${db.url!}?options=${encodeURIComponent('-c default_transaction_read_only=on')}`;
      for (const args of [['apply', '--env', 'shop'], ['kill', '--env', 'shop', '--flag', 'shop.safe_mode', '--reason', 'drill']]) {
        const result = await run(root, args, readOnly);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/the database refused a write: .*read-only transaction.*Point the environment's url_env at the primary's URL/);
        noStack(result.stderr);
      }
    } finally {
      await db.dispose();
    }
  });
});
