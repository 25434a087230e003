/**
 * Each example README's "Try it" commands, run as written: the indented block under
 * "## Try it" becomes one bash script, line by line, run in a fresh copy of what a clone has
 * of the example (`git ls-files`, so no local `.rollout/` state) with examples/stand-in-api.mjs
 * beside it. `npx rollout` is this repository's CLI: the script runs the built bin/rollout.js
 * (dist/cli.js) for it, as npx does from a clone after `npm ci`, without npx's own install step.
 * The embedded databases only, as the READMEs say. What each command's comment claims is
 * checked against what it printed: its migration, flag and check counts, "every check",
 * and what `rollout health` reports (a breach exits 1; only unknowns exit 3).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/rollout.js');
const EXAMPLES = join(ROOT, 'examples');
/** Examples whose README runs nothing here, and why. */
const NOT_RUN: Record<string, string> = {
  // Its commands need a Postgres server (DATABASE_URL) and `npm install` of the service's own package.
  'service-provider': 'needs a server and npm install',
};

interface Command {
  line: string;
  /** The comment after the command (what the README says it does), without the '#'. */
  says: string;
}

/** The commands of the README's "## Try it" section: its first indented block, one command a line. */
function tryItCommands(readme: string): Command[] {
  const section = /^## Try it\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
  const block = /(?:^ {4}\S.*\n?)+/m.exec(section)?.[0] ?? '';
  return block
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.slice(4))
    .map((line) => ({ line, says: /\s#\s*(.*)$/.exec(line)?.[1] ?? '' }));
}

interface Ran extends Command {
  code: number;
  output: string;
}

/** Run `commands` as one bash script in `cwd`; each command's exit code and output, split by markers. */
async function runScript(cwd: string, commands: readonly Command[], timeoutMs: number): Promise<Ran[]> {
  const marker = `@@rollout-readme-${process.pid}`;
  const script = [
    // `npx rollout` from a clone runs this repository's CLI; no other npx command is run here.
    `npx() { if [ "$1" = rollout ]; then shift; node "$ROLLOUT_CLI" "$@"; else echo "npx $1: not run by this test" >&2; return 127; fi; }`,
    ...commands.flatMap((c, i) => [c.line, `printf '\\n${marker} %d %d\\n' ${i} $?`]),
    // Whatever the README left running (a stand-in it did not stop) goes with the script.
    'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; true',
  ].join('\n');
  await writeFile(join(cwd, '.readme-commands.sh'), `${script}\n`);
  const child = spawn('bash', ['.readme-commands.sh'], { cwd, detached: true, env: { PATH: process.env.PATH, HOME: process.env.HOME, ROLLOUT_CLI: CLI } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // The group is gone: nothing was left running.
  }
  const ran: Ran[] = [];
  let rest = output;
  for (let i = 0; i < commands.length; i++) {
    const at = new RegExp(`\\n?${marker} ${i} (\\d+)\\n`).exec(rest);
    if (!at) throw new Error(`"${commands[i].line}" did not finish within ${timeoutMs} ms. Output:\n${rest}`);
    ran.push({ ...commands[i], code: Number(at[1]), output: rest.slice(0, at.index) });
    rest = rest.slice(at.index + at[0].length);
  }
  return ran;
}

/** A fresh copy of the example as a clone has it, at examples/<name> in a new directory. */
async function freshCopy(example: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `rollout-readme-${example}-`));
  const files = execFileSync('git', ['ls-files', '-z', '--', `examples/${example}`, 'examples/stand-in-api.mjs'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    await mkdir(join(root, dirname(file)), { recursive: true });
    await copyFile(join(ROOT, file), join(root, file));
  }
  return root;
}

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** What a command's comment claims, checked against its output. */
function checkClaims(ran: Ran): void {
  const context = `${ran.line}\n${ran.output}`;
  const rollout = /^npx rollout (\w+)/.exec(ran.line)?.[1];
  const health = rollout === 'health';
  // health: 1 when a monitor breached, 3 when none did and some are unknown (docs/checks.md).
  const expected = health ? (/breach/.test(ran.says) ? 1 : /unknown/.test(ran.says) ? 3 : 0) : 0;
  expect(ran.code, context).toBe(expected);
  if (health && expected === 1) expect(ran.output, context).toMatch(/✗ breach/);
  if (health && /unknown/.test(ran.says)) expect(ran.output, context).toMatch(/\? unknown/);
  if (rollout === 'validate') expect(ran.output, context).toMatch(/✓ \d+ environment\(s\) valid/);
  if (rollout !== 'apply') return;
  const migrations = /(\d+) migrations?\b/.exec(ran.says);
  if (migrations) expect(ran.output.match(/^ {2}migrated /gm) ?? [], context).toHaveLength(Number(migrations[1]));
  const flags = /(\d+) flags?\b/.exec(ran.says);
  if (flags) expect(ran.output.match(/^ {2}add /gm) ?? [], context).toHaveLength(Number(flags[1]));
  const checks = /(\d+) checks\b/.exec(ran.says);
  if (checks) expect(ran.output, context).toMatch(new RegExp(`^${checks[1]} check\\(s\\) on \\S+: `, 'm'));
  if (/every check|checks/.test(ran.says)) expect(ran.output, context).toMatch(/^\d+ check\(s\) on \S+: \d+ passed(, \d+ skipped)? in /m);
  if (/backup/.test(ran.says)) expect(ran.output, context).toMatch(/backup/i);
}

const examples = (await readdir(EXAMPLES, { withFileTypes: true })).filter((e) => e.isDirectory() && existsSync(join(EXAMPLES, e.name, 'README.md'))).map((e) => e.name).sort();

describe('the examples READMEs run as written', () => {
  it('every example README has a "Try it" block, or says why it is not run here', async () => {
    for (const example of examples) {
      const commands = tryItCommands(await readFile(join(EXAMPLES, example, 'README.md'), 'utf8'));
      if (example in NOT_RUN) expect(commands, example).toEqual([]);
      else expect(commands.length, `${example}/README.md has no indented block under "## Try it"`).toBeGreaterThan(0);
    }
  });

  it.each(examples.filter((e) => !(e in NOT_RUN)))('examples/%s/README.md', { timeout: 180_000 }, async (example) => {
    expect(existsSync(join(ROOT, 'dist/cli.js')), 'dist/cli.js is built by `npm ci` (prepare) or `npm run build`').toBe(true);
    const commands = tryItCommands(await readFile(join(EXAMPLES, example, 'README.md'), 'utf8'));
    expect(commands[0].line).toBe(`cd examples/${example}`);
    // A stand-in the README starts listens on the port the README exports.
    for (const port of commands.flatMap((c) => [...c.line.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))) {
      expect(await portFree(port), `port ${port}, which ${example}/README.md's stand-in listens on, is in use`).toBe(true);
    }
    const root = await freshCopy(example);
    try {
      const ran = await runScript(root, commands, 150_000);
      for (const command of ran) checkClaims(command);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
