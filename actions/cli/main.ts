/**
 * The `rollout` command line: parse arguments, run one engine command, map errors
 * to exit codes (0 ok, 1 problems found or the operation failed, 2 usage).
 */
import { Command, CommanderError } from 'commander';
import { UserError, ValidationError, toError } from '../engine/errors.ts';
import { renderProblems } from '../engine/render/problems.ts';
import { createContext, type Streams } from './context.ts';
import { applyCommand } from './commands/apply.ts';
import { migrateCommand } from './commands/migrate.ts';
import { planCommand } from './commands/plan.ts';
import { promoteCommand } from './commands/promote.ts';
import { statusCommand } from './commands/status.ts';
import { validateCommand } from './commands/validate.ts';
import { verifyCommand } from './commands/verify.ts';
import { healthCommand } from './commands/health.ts';
import { killCommand } from './commands/kill.ts';

export async function runCli(argv: readonly string[], streams: Streams, env: NodeJS.ProcessEnv): Promise<number> {
  const program = new Command('rollout')
    .description('GitOps rollout pipeline: plan and apply migrations and feature flags, with gates, checks and a ledger')
    .option('--root <dir>', 'repository to work on (default: the current directory)')
    .showHelpAfterError('(run rollout --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });
  const ctx = createContext(() => program.opts<{ root?: string }>().root, streams, env);
  for (const command of [validateCommand, planCommand, applyCommand, promoteCommand, statusCommand, migrateCommand, verifyCommand, healthCommand, killCommand]) program.addCommand(command(ctx));
  const exitOverrideAll = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(exitOverrideAll);
  };
  exitOverrideAll(program);

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
    ctx.err(`internal error (a bug in rollout, not in your files): ${error.message}`);
    if (env.ROLLOUT_DEBUG) ctx.err(error.stack ?? '');
    else ctx.err('Set ROLLOUT_DEBUG=1 to see the stack trace, and please report it.');
    return 70;
  }
}
