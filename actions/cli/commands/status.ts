import { Command, Option } from 'commander';
import { readOnly, withSession } from '../../engine/session.ts';
import { readStatus, renderStatusText } from '../../engine/status/status.ts';
import type { CliContext } from '../context.ts';
import { parsePositiveInt } from './options.ts';
import { fleetStatusAction, refuseFleetOptions, withFleetOptions, type FleetOptions } from './fleet.ts';

export function statusCommand(ctx: CliContext): Command {
  const command = new Command('status')
    .description('desired vs live for each flag, its stage and for how long, and the latest ledger entries')
    .requiredOption('--env <name>', 'environment')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--ledger <n>', 'how many ledger entries to show', parsePositiveInt, 10);
  return withFleetOptions(command)
    .action(async (options: FleetOptions & { env: string; format: 'text' | 'json'; ledger: number }) => {
      const env = await ctx.loadEnvironment(options.env);
      refuseFleetOptions(env, options);
      if (env.fleet) return fleetStatusAction(ctx, env, options);
      const status = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, ({ client }) =>
        readOnly(client, () => readStatus(client, env, { ledgerLimit: options.ledger })),
      );
      ctx.out(options.format === 'json' ? JSON.stringify(status, null, 2) : renderStatusText(status, new Date()));
    });
}
