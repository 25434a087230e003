/**
 * The `rollout` command line: parse arguments, run one engine command, map errors
 * to exit codes (0 ok, 1 problems found or the operation failed, 2 usage).
 */
import { Command, CommanderError, Help, type Option } from 'commander';
import { reportCleanupWarningsTo } from '../engine/cleanup.ts';
import { UserError, ValidationError, databaseRefusal, toError } from '../engine/errors.ts';
import { ROLLOUT_VERSION } from '../engine/adopt/release.ts';
import { environmentNames } from '../engine/config/repository.ts';
import { renderProblems } from '../engine/render/problems.ts';
import { createContext, type Streams } from './context.ts';
import type { CliContext } from './context.ts';

type CommandFactory = (ctx: CliContext) => Command;

/**
 * Commands load on demand: `rollout validate` never loads the database driver, the
 * embedded Postgres or the SQL parser, which is most of a cold start.
 */
const COMMANDS: Record<string, () => Promise<CommandFactory>> = {
  validate: async () => (await import('./commands/validate.ts')).validateCommand,
  plan: async () => (await import('./commands/plan.ts')).planCommand,
  apply: async () => (await import('./commands/apply.ts')).applyCommand,
  promote: async () => (await import('./commands/promote.ts')).promoteCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
  migrate: async () => (await import('./commands/migrate.ts')).migrateCommand,
  verify: async () => (await import('./commands/verify.ts')).verifyCommand,
  health: async () => (await import('./commands/health.ts')).healthCommand,
  kill: async () => (await import('./commands/kill.ts')).killCommand,
  init: async () => (await import('./commands/init.ts')).initCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  audit: async () => (await import('./commands/audit.ts')).auditCommand,
  fleet: async () => (await import('./commands/fleet.ts')).fleetCommand,
  restore: async () => (await import('./commands/restore.ts')).restoreCommand,
};

/** The command a command line names (skipping global options), if it is one of ours. */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--root') i++;
    else if (!arg.startsWith('-')) return Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

/**
 * The program for a command line: every command for help or an unknown command, else only
 * the one named. Exported so that a test can compare the options with the README's table.
 */
export async function buildProgram(argv: readonly string[], streams: Streams, env: NodeJS.ProcessEnv): Promise<{ program: Command; ctx: CliContext & { exitCode: number } }> {
  const program = new Command('rollout')
    .description('GitOps rollout pipeline: plan and apply migrations and feature flags, with gates, checks and a ledger')
    .option('--root <dir>', 'repository to work on (default: the current directory)')
    .showHelpAfterError('(run rollout --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });
  const ctx = createContext(() => program.opts<{ root?: string }>().root, streams, env);
  const name = commandName(argv);
  // Only without a command: `migrate baseline --version V` has an option of that name.
  if (!name) program.version(ROLLOUT_VERSION, '-V, --version', 'print the version');
  // Help and unknown commands need every command's definition; a known command only its own.
  const wanted = name ? [name] : Object.keys(COMMANDS);
  for (const factory of await Promise.all(wanted.map((n) => COMMANDS[n]()))) program.addCommand(factory(ctx));
  // Subcommands print their usage errors through the same streams, and exit through us.
  const configureAll = (command: Command): void => {
    command
      .exitOverride()
      .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) })
      .configureHelp(REQUIRED_SHOWN);
    command.commands.forEach(configureAll);
  };
  configureAll(program);
  return { program, ctx };
}

/**
 * Commander lists a required option like any other; say it is required, in the usage line
 * and beside the option (issue 13, defect 9).
 */
const REQUIRED_SHOWN = {
  commandUsage(this: Help, command: Command): string {
    const required = command.options.filter((o) => o.mandatory).map((o) => o.flags);
    const usage = Help.prototype.commandUsage.call(this, command);
    if (required.length === 0) return usage;
    const path = usage.slice(0, usage.indexOf(command.usage()) - 1);
    return `${path} ${required.join(' ')} ${command.usage()}`;
  },
  optionDescription(this: Help, option: Option): string {
    const text = Help.prototype.optionDescription.call(this, option);
    return option.mandatory ? `${text} (required)` : text;
  },
};

/** What to pass to a missing --env: the environments this repository has (newcomer mistake 46). */
function environmentsHint(root: string): string {
  const names = environmentNames(root);
  if (names.length === 0) return `No environments in ${root}/environments/: create environments/<name>.yaml (rollout init does), or pass --root DIR to point at your repository.`;
  return `Pass one with --env NAME; this repository has: ${names.join(', ')} (environments/*.yaml).`;
}

export async function runCli(argv: readonly string[], streams: Streams, env: NodeJS.ProcessEnv): Promise<number> {
  const { program, ctx } = await buildProgram(argv, streams, env);
  const restoreWarnings = reportCleanupWarningsTo((message) => ctx.err(`warning: ${message}`));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is usage.
      if (thrown.code === 'commander.missingMandatoryOptionValue' && /'--env\b/.test(thrown.message)) ctx.err(environmentsHint(ctx.root));
      return thrown.exitCode === 0 ? 0 : 2;
    }
    if (thrown instanceof ValidationError) {
      ctx.err(renderProblems(thrown.problems, 'text', { color: ctx.isTTY }));
      ctx.err('Fix the problems above (rollout validate shows them all), then run the command again.');
      return thrown.exitCode;
    }
    if (thrown instanceof UserError) {
      ctx.err(`error: ${thrown.message}`);
      return thrown.exitCode;
    }
    const error = toError(thrown);
    // The server refused a privilege or a write: the role or URL is the user's to fix, not a bug.
    const refusal = databaseRefusal(thrown);
    if (refusal) {
      ctx.err(`error: ${refusal.message}`);
      return refusal.exitCode;
    }
    ctx.err(`internal error (a bug in rollout, not in your files): ${error.message}`);
    if (env.ROLLOUT_DEBUG) ctx.err(error.stack ?? '');
    else ctx.err('Set ROLLOUT_DEBUG=1 to see the stack trace, and please report it.');
    return 70;
  } finally {
    restoreWarnings();
  }
}
