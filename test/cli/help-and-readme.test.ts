/**
 * Issue 13, defect 9: one truth for each interface. The README's command table lists every
 * option the parser accepts (and no other), marks as optional exactly the ones that are, and
 * --help marks required options as required.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../actions/cli/main.ts';
import { cli } from '../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every command and subcommand the CLI defines, by path ("migrate adopt"), as the parser builds them. */
async function parserCommands(): Promise<Map<string, Command>> {
  const found = new Map<string, Command>();
  const { program } = await buildProgram(['--help'], { stdout: { write: () => true }, stderr: { write: () => true } }, {});
  const walk = (command: Command, prefix: string): void => {
    for (const sub of command.commands) {
      if (sub.name() === 'help') continue;
      const path = `${prefix}${sub.name()}`;
      if (sub.commands.length > 0) walk(sub, `${path} `);
      else found.set(path, sub);
    }
  };
  walk(program, '');
  return found;
}

interface ReadmeRow {
  commands: string[];
  flags: Set<string>;
  /** Flags written outside [ ]: shown as required. */
  required: Set<string>;
}

/** The rows of the README's command table: `rollout migrate status|plan --env NAME [--x]` → its commands and flags. */
function readmeRows(): ReadmeRow[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('\n## ', readme.indexOf('## Commands') + 1));
  const rows: ReadmeRow[] = [];
  for (const line of table.split('\n')) {
    const cell = /^\| `rollout ([^`]*)` \|/.exec(line)?.[1]?.replace(/\\\|/g, '|');
    if (cell === undefined) continue;
    const words = cell.split(/\s+/);
    const path: string[] = [];
    for (const word of words) {
      if (word.startsWith('-') || word.startsWith('[')) break;
      path.push(word);
    }
    // "migrate status|plan" names several subcommands of one command.
    const last = path.pop() ?? '';
    const commands = path.length === 0 && last === '' ? [] : last.split('|').map((name) => [...path, name].join(' '));
    const flagsIn = (text: string): Set<string> => new Set([...text.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
    let outside = cell;
    while (/\[[^[\]]*\]/.test(outside)) outside = outside.replace(/\[[^[\]]*\]/g, '');
    rows.push({ commands, flags: flagsIn(cell), required: flagsIn(outside) });
  }
  return rows;
}

const longFlags = (command: Command): string[] => command.options.map((o) => o.long!).filter((f) => f !== '--help');

describe('the README command table and the parser', () => {
  it('lists every command once, with exactly the options the parser accepts', async () => {
    const commands = await parserCommands();
    const rows = readmeRows().filter((r) => r.commands.length > 0);
    const mentioned = rows.flatMap((r) => r.commands);
    // Each command has one row: two rows for one command drift apart.
    expect(mentioned.filter((c, i) => mentioned.indexOf(c) !== i), 'commands with more than one README row').toEqual([]);
    expect([...commands.keys()].filter((c) => !mentioned.includes(c)), 'commands the README does not list').toEqual([]);
    expect(mentioned.filter((c) => !commands.has(c)), 'README rows for commands that do not exist').toEqual([]);
    for (const row of rows) {
      const parser = new Set(row.commands.flatMap((c) => longFlags(commands.get(c)!)));
      expect([...parser].filter((f) => !row.flags.has(f)), `options of ${row.commands.join('|')} the README row leaves out`).toEqual([]);
      expect([...row.flags].filter((f) => !parser.has(f)), `options the README row of ${row.commands.join('|')} names that the parser does not accept`).toEqual([]);
      const required = new Set(row.commands.flatMap((c) => commands.get(c)!.options.filter((o) => o.mandatory).map((o) => o.long!)));
      expect([...row.required].sort(), `options shown as required (outside [ ]) in the row of ${row.commands.join('|')}`).toEqual([...required].sort());
    }
  });

  it('lists --root and --version, the options of the program itself', () => {
    const flags = new Set(readmeRows().flatMap((r) => [...r.flags]));
    expect(flags.has('--version')).toBe(true);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('Every command takes `--root DIR`');
  });
});

describe('--help', () => {
  it('marks required options as required, in the usage line and beside the option', async () => {
    const plan = await cli(['plan', '--help']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Usage: rollout plan --env <name> [options]');
    expect(plan.stdout).toMatch(/--env <name> +environment to plan \(required\)/);
    expect(plan.stdout).not.toMatch(/--format <format>[^\n]*\(required\)/);
    const kill = await cli(['kill', '--help']);
    expect(kill.stdout).toContain('Usage: rollout kill --env <name> --flag <key> --reason <text> [options]');
    const validate = await cli(['validate', '--help']);
    expect(validate.stdout).toContain('Usage: rollout validate [options]');
    expect(validate.stdout).not.toContain('(required)');
    const baseline = await cli(['migrate', 'baseline', '--help']);
    expect(baseline.stdout).toContain('Usage: rollout migrate baseline --env <name> --version <version> [options]');
  });
});
