/**
 * The `rollout` command line: parse arguments, run one engine command, map errors
 * to exit codes (0 ok, 1 problems found or the operation failed, 2 usage).
 */
import { Command, CommanderError } from 'commander';
import { reportCleanupWarningsTo } from '../engine/cleanup.ts';
import { UserError, ValidationError, databaseRefusal, toError } from '../engine/errors.ts';
import { ROLLOUT_VERSION } from '../engine/adopt/release.ts';
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

export async function runCli(argv: readonly string[], streams: Streams, env: NodeJS.ProcessEnv): Promise<number> {
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
    command.exitOverride().configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });
    command.commands.forEach(configureAll);
  };
  configureAll(program);

  const restoreWarnings = reportCleanupWarningsTo((message) => ctx.err(`warning: ${message}`));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is usage.
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
