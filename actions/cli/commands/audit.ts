import { Command, InvalidArgumentError, Option } from 'commander';
import { readOnlyTarget } from '../../engine/operations.ts';
import { readOnly, withSession } from '../../engine/session.ts';
import { auditLedger, renderAuditText } from '../../engine/store/ledger-audit.ts';
import type { CliContext } from '../context.ts';

export function auditCommand(ctx: CliContext): Command {
  return new Command('audit')
    .description("walk the ledger's hash chain and check its append-only triggers (exit 1 when the chain is broken or the protection is not whole)")
    .requiredOption('--env <name>', 'environment whose ledger to audit')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--head <hash>', 'a head hash published earlier (job summary, deployment status): it must still be in the chain', parseHash)
    .addHelpText('after', '\nThe first bad entry is named: changed after it was written, or following an entry that was removed, or inserted out of order.')
    .action(async (options: { env: string; format: 'text' | 'json'; head?: string }) => {
      const env = readOnlyTarget(await ctx.loadEnvironment(options.env), ctx.env);
      const integrity = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, ({ client }) =>
        readOnly(client, () => auditLedger(client, env.name, options.head ? { expectHead: options.head } : {})),
      );
      ctx.out(options.format === 'json' ? JSON.stringify(integrity, null, 2) : renderAuditText(integrity));
      if (!integrity.ok) ctx.setExitCode(1);
    });
}

function parseHash(text: string): string {
  if (!/^[0-9a-fA-F]{12,64}$/.test(text)) throw new InvalidArgumentError(`Invalid hash '${text}'. Expected 12 to 64 hexadecimal characters, as the job summary shows it.`);
  return text.toLowerCase();
}
