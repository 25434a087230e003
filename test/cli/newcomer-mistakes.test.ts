/**
 * Issue 13's acceptance: every mistake in ../shared/newcomer-mistakes.md (57, numbered as
 * there) kept as a fixture — a small repository in a temp folder, one edit of a good one —
 * and run as a newcomer would. Each answer must be clear: an exit code that is not 70, no
 * stack trace, no secret, the file:line:column where a file is involved, and the fix.
 * The few that are not a mistake to answer, or that another suite runs, are listed with why.
 */
import { rm } from 'node:fs/promises';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { environmentLockKey } from '../../actions/engine/db/advisory-lock.ts';
import { cli, type CliRun } from '../support/cli.ts';
import { databaseTargets, EMBEDDED_DIR } from '../support/databases.ts';
import { temporaryRepositories } from '../support/repository.ts';

const STAGING = `version: 1
database:
  url_env: STAGING_DATABASE_URL
promotes_to: production
migrations:
  lock_timeout: 5s
flags:
  shop.safe_mode:
    value: { enabled: false }
    kill_switch: true
  checkout.new_flow:
    value: { enabled: true }
    off_value: { enabled: false }
    contract: toggle
    rollout: { stage: canary, percent: 25 }
  ranker.policy:
    value: { epsilon: 0.1 }
checks:
  - name: orders readable
    sql: SELECT 1 AS one
    expect: { rows: 1 }
monitors:
  - name: burn rate
    sql: SELECT 0.5
    above: 2
    on_breach: { kill_switch: shop.safe_mode }
`;
const PRODUCTION = STAGING.replace('STAGING_DATABASE_URL', 'PRODUCTION_DATABASE_URL').replace('promotes_to: production\n', '').replace('percent: 25', 'percent: 5');
const TOGGLE = `{
  "type": "object",
  "properties": { "enabled": { "type": "boolean" } },
  "required": ["enabled"],
  "additionalProperties": false
}
`;
const BASE: Record<string, string> = {
  'environments/staging.yaml': STAGING,
  'environments/production.yaml': PRODUCTION,
  'contracts/toggle.schema.json': TOGGLE,
  'migrations/0001_orders.sql': 'CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);\n',
};

const S = 'environments/staging.yaml';
const P = 'environments/production.yaml';
/** A password that must never be printed: it is in every URL the runs are given. */
const SECRET = 'hunter22';
const DOWN_URL = `postgres://app:${SECRET}@127.0.0.1:9/staging`;

type Edit = string | null | ((text: string) => string);

interface Mistake {
  n: number;
  what: string;
  /** Edits of the good repository: path → new text, an edit of the old one, or null to delete it. */
  edit?: Record<string, Edit>;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Exit code expected (never 70). */
  code: number;
  /** Where the message must point, when a file is involved. */
  at?: RegExp;
  /** The fix the message must give. */
  fix: RegExp;
  /** What a clear answer must not say (a wrong extra error, a misleading hint). */
  not?: RegExp;
}

const replace = (from: string, to: string) => (text: string): string => {
  if (!text.includes(from)) throw new Error(`fixture edit: ${JSON.stringify(from)} is not in the file`);
  return text.replace(from, to);
};

/** Mistakes answered without a database (validate, usage, connection settings). */
const OFFLINE: Mistake[] = [
  { n: 1, what: 'top-level flgas:', edit: { [S]: replace('\nflags:', '\nflgas:') }, args: ['validate'], code: 1, at: /^environments\/staging\.yaml:7:1: error:/m, fix: /did you mean 'flags'/i },
  { n: 2, what: 'kill_swich:', edit: { [S]: replace('kill_switch: true', 'kill_swich: true') }, args: ['validate'], code: 1, at: /staging\.yaml:10:5:/, fix: /kill_switch/ },
  { n: 3, what: 'kill_switch: "yes"', edit: { [S]: replace('kill_switch: true', 'kill_switch: "yes"') }, args: ['validate'], code: 1, at: /staging\.yaml:10:18:/, fix: /must be true or false/ },
  { n: 4, what: 'percent: "25%"', edit: { [S]: replace('percent: 25', 'percent: "25%"') }, args: ['validate'], code: 1, at: /staging\.yaml:15:\d+:/, fix: /percent: 25|a number/, not: /has no percent/ },
  { n: 5, what: 'version: 2', edit: { [S]: replace('version: 1', 'version: 2') }, args: ['validate'], code: 1, at: /staging\.yaml:1:10:/, fix: /version must be 1, not 2/ },
  { n: 6, what: 'a contract file that does not exist', edit: { [S]: replace('contract: toggle', 'contract: toggel') }, args: ['validate'], code: 1, at: /staging\.yaml:14:15:/, fix: /did you mean 'toggle'/i },
  { n: 7, what: 'lock_timeout: 5 minutes', edit: { [S]: replace('lock_timeout: 5s', 'lock_timeout: 5 minutes') }, args: ['validate'], code: 1, at: /staging\.yaml:6:17:/, fix: /Expected: A duration such as 500ms, 5s/ },
  { n: 8, what: 'stage: partial', edit: { [S]: replace('stage: canary, percent: 25', 'stage: partial') }, args: ['validate'], code: 1, at: /staging\.yaml:15:\d+:/, fix: /off.*dark.*shadow.*canary.*full/ },
  { n: 9, what: 'canary 30 % when 30 is not a ladder step', edit: { [S]: replace('percent: 25', 'percent: 30') }, args: ['validate'], code: 1, at: /staging\.yaml:15:\d+:/, fix: /5.*25.*50/ },
  { n: 10, what: 'a value that breaks its contract', edit: { [S]: replace('value: { enabled: true }', 'value: { enabled: "yes" }') }, args: ['validate'], code: 1, at: /staging\.yaml:12:\d+:/, fix: /must be true or false.*contract 'toggle'/ },
  {
    n: 11,
    what: 'a password URL in url_env, reported once',
    edit: { [S]: replace('url_env: STAGING_DATABASE_URL', `url_env: postgres://app:${SECRET}@db.example.com/shop`) },
    args: ['validate'],
    code: 1,
    at: /staging\.yaml:3:12:/,
    fix: /STAGING_DATABASE_URL/,
  },
  { n: 12, what: 'an empty file', edit: { [S]: '' }, args: ['validate'], code: 1, at: /staging\.yaml:1:1:/, fix: /url_env: STAGING_DATABASE_URL/, not: /local\.yaml/ },
  { n: 13, what: 'the file is a YAML list', edit: { [S]: '- version: 1\n- flags: {}\n' }, args: ['validate'], code: 1, at: /staging\.yaml:1:1:/, fix: /url_env: STAGING_DATABASE_URL/, not: /local\.yaml/ },
  { n: 14, what: 'a 9 MB string in a file', edit: { [S]: (t) => `${t}description: "${'x'.repeat(9 * 1024 * 1024)}"\n` }, args: ['validate'], code: 1, at: /staging\.yaml:1:1:/, fix: /8 MiB/ },
  { n: 16, what: 'an unclosed {', edit: { [S]: replace('value: { enabled: false }', 'value: { enabled: false') }, args: ['validate'], code: 1, at: /staging\.yaml:9:\d+:/, fix: /\}/ },
  { n: 17, what: 'tab indentation', edit: { [S]: replace('\n    kill_switch: true', '\n\tkill_switch: true') }, args: ['validate'], code: 1, at: /staging\.yaml:10:\d+:/, fix: /spaces/i },
  { n: 18, what: 'a duplicate key', edit: { [S]: replace('  ranker.policy:\n    value: { epsilon: 0.1 }\n', '  ranker.policy:\n    value: { epsilon: 0.1 }\n  ranker.policy:\n    value: { epsilon: 0.2 }\n') }, args: ['validate'], code: 1, at: /staging\.yaml:18:3:/, fix: /ranker\.policy/ },
  {
    n: 19,
    what: 'a YAML alias bomb',
    edit: { [S]: (t) => `${t}x-bomb:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n` },
    args: ['validate'],
    code: 1,
    at: /staging\.yaml:\d+:\d+:/,
    fix: /alias/i,
  },
  { n: 20, what: 'a kill switch with value: true', edit: { [S]: replace('value: { enabled: false }', 'value: true') }, args: ['validate'], code: 1, at: /staging\.yaml:9:\d+:/, fix: /\{ ?enabled: (true|false|boolean)/ },
  { n: 21, what: 'a depends_on typo', edit: { [S]: replace('    value: { epsilon: 0.1 }\n', '    value: { epsilon: 0.1 }\n    depends_on: [checkout.new_flwo]\n') }, args: ['validate'], code: 1, at: /staging\.yaml:18:\d+:/, fix: /checkout\.new_flow/ },
  { n: 22, what: 'a lower-case url_env value', edit: { [S]: replace('url_env: STAGING_DATABASE_URL', 'url_env: staging_database_url') }, args: ['validate'], code: 1, at: /staging\.yaml:3:12:/, fix: /write url_env: STAGING_DATABASE_URL/ },
  { n: 23, what: 'both url_env and embedded', edit: { [S]: replace('  url_env: STAGING_DATABASE_URL\n', '  url_env: STAGING_DATABASE_URL\n  embedded: .rollout/db\n') }, args: ['validate'], code: 1, at: /staging\.yaml:[234]:\d+:/, fix: /url_env.*embedded|embedded.*url_env/ },
  { n: 24, what: 'expect: { row: 0 }', edit: { [S]: replace('expect: { rows: 1 }', 'expect: { row: 0 }') }, args: ['validate'], code: 1, at: /staging\.yaml:21:\d+:/, fix: /rows/ },
  { n: 25, what: 'a bad rollout.yaml ladder', edit: { 'rollout.yaml': 'ladder:\n  canary_steps: [5, 25, 250]\n' }, args: ['validate'], code: 1, at: /rollout\.yaml:2:\d+:[^\n]*\n +2 \| +canary_steps/, fix: /must be <= 100, not 250/ },
  { n: 26, what: 'a use: file that is missing', edit: { [S]: replace('checks:\n', 'checks:\n  - use: checks/common.yaml\n') }, args: ['validate'], code: 1, at: /staging\.yaml:19:\d+:/, fix: /checks\/common\.yaml/ },
  { n: 27, what: 'production ahead of staging in the files (a warning)', edit: { [P]: replace('percent: 5', 'percent: 50') }, args: ['validate'], code: 0, at: /production\.yaml:14:\d+: warning:/, fix: /Set production back to canary 25%/ },
  { n: 28, what: 'a contract with a trailing comma', edit: { 'contracts/toggle.schema.json': replace('"additionalProperties": false\n', '"additionalProperties": false,\n') }, args: ['validate'], code: 1, at: /toggle\.schema\.json:5:\d+:/, fix: /trailing comma: remove it/ },
  { n: 29, what: 'on_breach naming a flag that is not a kill switch', edit: { [S]: replace('kill_switch: shop.safe_mode }', 'kill_switch: ranker.policy }') }, args: ['validate'], code: 1, at: /staging\.yaml:26:\d+:/, fix: /Kill switches in environments\/staging\.yaml: shop\.safe_mode/ },
  { n: 30, what: 'a monitor without above/below', edit: { [S]: replace('    above: 2\n', '') }, args: ['validate'], code: 1, at: /staging\.yaml:23:\d+:/, fix: /above|below/ },
  { n: 31, what: 'a when_flag typo', edit: { [S]: replace('    expect: { rows: 1 }\n', '    expect: { rows: 1 }\n    when_flag: { key: checkout.new_flwo }\n') }, args: ['validate'], code: 1, at: /staging\.yaml:22:\d+:/, fix: /did you mean 'checkout\.new_flow'/ },
  { n: 32, what: 'a DELETE in a check', edit: { [S]: replace('sql: SELECT 1 AS one', 'sql: DELETE FROM orders') }, args: ['validate'], code: 1, at: /staging\.yaml:20:\d+:/, fix: /DELETE is not allowed in a check/ },
  {
    n: 33,
    what: 'latency_budget inside http:',
    edit: { [S]: replace('monitors:\n', '  - name: health\n    http:\n      url: http://127.0.0.1:9/health\n      latency_budget: 500ms\nmonitors:\n') },
    args: ['validate'],
    code: 1,
    at: /staging\.yaml:25:\d+:/,
    fix: /latency_budget/,
  },
  { n: 35, what: 'a syntax error in a migration', edit: { 'migrations/0002_bad.sql': 'CREATE INDEX orders_total ON orders (total);\n\nSELEC 1;\n' }, args: ['validate'], code: 1, at: /migrations\/0002_bad\.sql:3:\d+:/, fix: /syntax error/ },
  { n: 36, what: 'a bad migration file name and a duplicate version', edit: { 'migrations/orders.sql': 'SELECT 1;\n', 'migrations/0001_again.sql': 'SELECT 1;\n' }, args: ['validate'], code: 1, at: /migrations\/(orders|0001_again)\.sql:1:1:/, fix: /0001_again\.sql[\s\S]*orders\.sql|orders\.sql[\s\S]*0001_again\.sql/ },
  { n: 38, what: 'the URL variable unset', args: ['plan', '--env', 'staging'], env: { STAGING_DATABASE_URL: undefined }, code: 1, fix: /STAGING_DATABASE_URL/ },
  { n: 39, what: 'the database is down', args: ['plan', '--env', 'staging'], code: 1, fix: /STAGING_DATABASE_URL\) at 127\.0\.0\.1:9: .*check that the server is running/ },
  { n: 41, what: 'a URL with a non-numeric port', args: ['plan', '--env', 'staging'], env: { STAGING_DATABASE_URL: `postgres://app:${SECRET}@127.0.0.1:54x32/shop` }, code: 1, fix: /has a port that is not a number/ },
  { n: 42, what: 'a URL that is just a name', args: ['plan', '--env', 'staging'], env: { STAGING_DATABASE_URL: 'ux_staging' }, code: 1, fix: /postgres:\/\/|host=/, not: /ENOTFOUND base/ },
  { n: 42.5, what: 'a key=value DSN', args: ['plan', '--env', 'staging'], env: { STAGING_DATABASE_URL: `host=127.0.0.1 port=9 dbname=shop user=app password=${SECRET}` }, code: 1, fix: /127\.0\.0\.1:9/, not: /ENOTFOUND/ },
  { n: 44, what: 'plan --out into a missing folder', args: ['plan', '--env', 'staging', '--out', 'nope/plan.md'], code: 2, fix: /does not exist\. Create it first/ },
  { n: 44.5, what: 'verify --junit into a missing folder', args: ['verify', '--env', 'staging', '--junit', 'nope/junit.xml'], code: 2, fix: /does not exist\. Create it first/ },
  { n: 45, what: '--env stagin', args: ['plan', '--env', 'stagin'], code: 2, fix: /did you mean 'staging'/i },
  { n: 46, what: 'no --env', args: ['plan'], code: 2, fix: /this repository has: production, staging/ },
  { n: 47, what: '--root at a folder that does not exist', args: ['--root', '/tmp/rollout-h13-no-such-folder', 'validate'], code: 2, fix: /does not exist.*Pass --root DIR/, not: /environments\/:1:1/ },
  { n: 48, what: 'an invalid ROLLOUT_NOW', args: ['plan', '--env', 'staging'], env: { ROLLOUT_NOW: 'tomorrow' }, code: 2, fix: /ISO time with a zone, like 2026-11-20T10:00:00Z/ },
  { n: 49, what: '--format yaml', args: ['plan', '--env', 'staging', '--format', 'yaml'], code: 2, fix: /Allowed choices are text, markdown, json/ },
  { n: 50, what: 'a garbage --plan-hash', args: ['apply', '--env', 'staging', '--plan-hash', 'zzz'], code: 2, fix: /Expected 12 to 64 hex/, not: /stale|no longer matches/ },
  { n: 53, what: 'promote in the wrong direction', args: ['promote', '--from', 'production', '--to', 'staging'], code: 2, fix: /staging promotes to production .*Run rollout promote --from staging --to production/, not: /cycle|set promotes_to/ },
  { n: 54, what: 'kill on a flag that is not a kill switch', args: ['kill', '--env', 'staging', '--flag', 'ranker.policy', '--reason', 'x'], code: 1, fix: /shop\.safe_mode/ },
  { n: 55, what: 'kill without --reason', args: ['kill', '--env', 'staging', '--flag', 'shop.safe_mode'], code: 2, fix: /--reason/ },
  { n: 57, what: 'a sslmode=require URL: no multi-line warning of pg', args: ['plan', '--env', 'staging'], env: { STAGING_DATABASE_URL: `postgres://app:${SECRET}@127.0.0.1:9/staging?sslmode=require` }, code: 1, fix: /127\.0\.0\.1:9/, not: /SECURITY WARNING/ },
];

/** Not a mistake to answer here, with why; each is still a line of the list. */
const ELSEWHERE: Record<number, string> = {
  15: 'not a mistake: 50,000 flags in 5 MB works; its cost is a benchmark figure (bench/), not an error to assert',
  57: 'the action half (GitHub API unreachable) runs the bundled action: test/actions/unreachable-api.test.ts; the sslmode half is here',
};

/** The mistakes run against a live database, below. */
const LIVE = [34, 37, 40, 43, 50, 51, 52, 56];

const repo = temporaryRepositories('rollout-newcomer-');
const DEBUG = process.env.NEWCOMER_DEBUG === '1';

function writeRepository(root: string, edit: Record<string, Edit> = {}): void {
  for (const [path, change] of Object.entries(edit)) {
    const file = join(root, path);
    if (change === null) {
      void rm(file, { force: true });
      continue;
    }
    const old = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, typeof change === 'function' ? change(old) : change);
  }
}

/** The bar every answer meets, whatever the mistake. */
function expectClear(m: Pick<Mistake, 'code' | 'at' | 'fix' | 'not'>, run: CliRun): void {
  const text = `${run.stdout}\n${run.stderr}`;
  if (DEBUG) console.log(`--- exit ${run.code}\n${text.slice(0, 3000)}`);
  expect(run.code, text).not.toBe(70);
  expect(run.code, text).toBe(m.code);
  expect(text).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
  expect(text).not.toContain('internal error');
  expect(text).not.toContain(SECRET);
  if (m.at) expect(text).toMatch(m.at);
  expect(text).toMatch(m.fix);
  if (m.not) expect(text).not.toMatch(m.not);
}

describe('newcomer mistakes (../shared/newcomer-mistakes.md): each gets a clear answer', () => {
  for (const m of OFFLINE) {
    it(`${m.n}: ${m.what}`, async () => {
      const root = repo(BASE);
      writeRepository(root, m.edit);
      const env: NodeJS.ProcessEnv = { STAGING_DATABASE_URL: DOWN_URL, PRODUCTION_DATABASE_URL: DOWN_URL.replace('staging', 'production'), ...m.env };
      for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
      const args = m.args[0] === '--root' ? m.args : ['--root', root, ...m.args];
      // Relative output paths are the user's current folder: run from the repository.
      const cwd = process.cwd();
      process.chdir(root);
      try {
        expectClear(m, await cli(args, env));
      } finally {
        process.chdir(cwd);
      }
    });
  }

  it('11: the password URL is reported once, not twice', async () => {
    const root = repo(BASE);
    writeRepository(root, OFFLINE.find((m) => m.n === 11)!.edit);
    const run = await cli(['--root', root, 'validate']);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('environments/staging.yaml:3:'))).toHaveLength(1);
  });

  it('1: the real cause comes first, before any follow-on error', async () => {
    const root = repo(BASE);
    writeRepository(root, OFFLINE.find((m) => m.n === 1)!.edit);
    const run = await cli(['--root', root, 'validate']);
    const errors = run.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: error:/.test(l));
    expect(errors[0]).toMatch(/^environments\/staging\.yaml:7:1: error:.*flgas/);
  });

  for (const [n, why] of Object.entries(ELSEWHERE)) it.skip(`${n}: ${why}`, () => {});

  it('covers every numbered mistake of the list (test/fixtures/newcomer-mistakes.md, a copy of ../shared/newcomer-mistakes.md)', () => {
    const listed = [...readFileSync(join(import.meta.dirname, '..', 'fixtures', 'newcomer-mistakes.md'), 'utf8').matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
    expect(listed).toHaveLength(57);
    const covered = new Set([...OFFLINE.map((m) => Math.floor(m.n)), ...LIVE, ...Object.keys(ELSEWHERE).map(Number)]);
    expect(listed.filter((n) => !covered.has(n))).toEqual([]);
  });
});

/** Mistakes that need a live database: the embedded one always, a real server for what only a server has. */
describe.each(databaseTargets())('newcomer mistakes on a live database ($name)', (target) => {
  const embedded = target.name === 'embedded';

  async function liveRepository(edit: Record<string, Edit> = {}) {
    const db = await target.create();
    const files = { ...BASE, [S]: STAGING.replace('  url_env: STAGING_DATABASE_URL\n', embedded ? `  embedded: ${EMBEDDED_DIR}\n` : '  url_env: STAGING_DATABASE_URL\n') };
    for (const [path, text] of Object.entries(files)) writeRepository(db.root, { [path]: text });
    writeRepository(db.root, edit);
    const env: NodeJS.ProcessEnv = embedded ? {} : { STAGING_DATABASE_URL: db.url };
    const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => cli(['--root', db.root, ...args], { ...env, ...extra });
    return { db, run, env };
  }

  it('34: an applied migration edited afterwards: restore it or baseline', { timeout: 120_000 }, async () => {
    const { db, run } = await liveRepository();
    try {
      expect((await run(['apply', '--env', 'staging'])).code).toBe(0);
      writeRepository(db.root, { 'migrations/0001_orders.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY);\n' });
      expectClear({ code: 1, at: /migrations\/0001_orders\.sql/, fix: /restore|baseline/i }, await run(['plan', '--env', 'staging']));
    } finally {
      await db.dispose();
    }
  });

  it('51 and 52: skipping a stage, and moving before the soak, are refused with the rung and the time to go', { timeout: 120_000 }, async () => {
    const { db, run } = await liveRepository({ [S]: (t) => t.replace('stage: canary, percent: 25', 'stage: dark') });
    try {
      expect((await run(['apply', '--env', 'staging'])).code).toBe(0);
      writeRepository(db.root, { [S]: (t) => t.replace('stage: dark', 'stage: canary, percent: 25') });
      expectClear({ code: 1, fix: /shadow/ }, await run(['apply', '--env', 'staging']));
      writeRepository(db.root, { [S]: (t) => t.replace('stage: canary, percent: 25', 'stage: shadow') });
      expectClear({ code: 1, fix: /to go before the next step/ }, await run(['apply', '--env', 'staging']));
    } finally {
      await db.dispose();
    }
  });

  it('50: a stale --plan-hash is reported as stale', { timeout: 120_000 }, async () => {
    const { db, run } = await liveRepository();
    try {
      expectClear({ code: 1, fix: /no longer matches staging/ }, await run(['apply', '--env', 'staging', '--plan-hash', 'a'.repeat(64)]));
    } finally {
      await db.dispose();
    }
  });

  it.skipIf(embedded)('40: a database name that does not exist', { timeout: 60_000 }, async () => {
    const { db, run } = await liveRepository();
    try {
      const url = new URL(db.url!);
      url.pathname = '/rollout_h13_no_such_database';
      expectClear({ code: 1, fix: /does not exist/ }, await run(['plan', '--env', 'staging'], { STAGING_DATABASE_URL: url.toString() }));
    } finally {
      await db.dispose();
    }
  });

  it.skipIf(embedded)('43: apply and kill with a read-only URL', { timeout: 60_000 }, async () => {
    const { db, run } = await liveRepository();
    try {
      const readOnly = `${db.url!}?options=${encodeURIComponent('-c default_transaction_read_only=on')}`;
      for (const args of [['apply', '--env', 'staging'], ['kill', '--env', 'staging', '--flag', 'shop.safe_mode', '--reason', 'drill']]) {
        expectClear({ code: 1, fix: /Point the environment's url_env at the primary's URL/ }, await run(args, { STAGING_DATABASE_URL: readOnly }));
      }
    } finally {
      await db.dispose();
    }
  });

  it.skipIf(embedded)('37: a backup configured and no pg_dump on PATH', { timeout: 60_000 }, async () => {
    const { db, run } = await liveRepository({ [S]: replace('  lock_timeout: 5s\n', '  lock_timeout: 5s\n  backup: { directory: .rollout/backups }\n') });
    const path = process.env.PATH;
    try {
      // pg_dump is looked up on this process's PATH.
      process.env.PATH = join(db.root, 'no-bin');
      expectClear({ code: 1, fix: /pg_dump is not on PATH.*Install the PostgreSQL client tools/ }, await run(['apply', '--env', 'staging'], { PATH: process.env.PATH }));
    } finally {
      process.env.PATH = path;
      await db.dispose();
    }
  });

  it.skipIf(embedded)('56: a concurrent apply in lock mode fail: the holder, and no talk of a timeout', { timeout: 60_000 }, async () => {
    const { db, run } = await liveRepository({ [S]: replace('  lock_timeout: 5s\n', '  lock_timeout: 5s\n  advisory_lock: { mode: fail }\n') });
    const holder = new pg.Client({ connectionString: db.url, application_name: 'the other apply' });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [environmentLockKey('staging').toString()]);
      expectClear({ code: 1, fix: /locked by .*the other apply.*mode: wait/, not: /timeout/ }, await run(['apply', '--env', 'staging']));
    } finally {
      await holder.end();
      await db.dispose();
    }
  });
});
