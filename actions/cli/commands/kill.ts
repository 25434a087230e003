import { Command, InvalidArgumentError } from 'commander';
import { breakGlass, validateBreakGlass } from '../../engine/breakglass/index.ts';
import type { JsonValue } from '../../engine/config/model.ts';
import { currentActor, currentCommit } from '../../engine/migrate/provenance.ts';
import { withSession } from '../../engine/session.ts';
import { describeExport, writeConfiguredExport } from '../../engine/export/export-file.ts';
import type { CliContext } from '../context.ts';

export function killCommand(ctx: CliContext): Command {
  return new Command('kill')
    .description('break-glass: set a kill switch now, without a PR or any gate; recorded in the ledger and shown by plan until Git has it')
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--flag <key>', 'a flag marked kill_switch: true')
    .requiredOption('--reason <text>', 'why (goes in the ledger)')
    .option('--value <json>', 'value to set (default {"enabled": true})', parseJson)
    .action(async (options: { env: string; flag: string; reason: string; value?: JsonValue }) => {
      const env = await ctx.loadEnvironment(options.env);
      const request = {
        flag: options.flag,
        reason: options.reason,
        actor: currentActor(ctx.env),
        commit: await currentCommit(ctx.root, ctx.env),
        trigger: 'cli: rollout kill',
        root: ctx.root,
        ...(options.value !== undefined ? { value: options.value } : {}),
      };
      validateBreakGlass(env, request); // refuse before connecting
      const { result, exported } = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, async ({ client }) => {
        const result = await breakGlass(client, env, request);
        // Only after the switch has committed: the file never delays it.
        return { result, exported: result.ledgerId === null ? null : await writeConfiguredExport(client, env, ctx.root) };
      });
      if (result.ledgerId === null) {
        ctx.out(`${env.name}: ${result.flag} is already ${JSON.stringify(result.after)}; nothing written.`);
        return;
      }
      ctx.out(`${env.name}: ${result.flag} set to ${JSON.stringify(result.after)} (was ${JSON.stringify(result.before)}) by break-glass, ledger entry #${result.ledgerId}.`);
      ctx.out(`  plan shows it as a hold until ${env.file} says ${JSON.stringify(result.after)} too: open a PR that records it in Git.`);
      if (exported?.failure !== undefined) {
        ctx.err(`error: ${describeExport(exported, env)}`);
        ctx.setExitCode(1);
      } else if (exported) ctx.out(describeExport(exported, env));
    });
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new InvalidArgumentError(`Invalid JSON '${text}'. Expected e.g. '{"enabled": true}' (quote it for the shell).`);
  }
}
