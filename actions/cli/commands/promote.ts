import { Command, Option } from 'commander';
import { currentCommit } from '../../engine/migrate/provenance.ts';
import { clockFrom } from '../../engine/promote/clock.ts';
import { promote } from '../../engine/promote/promote.ts';
import { PROMOTE_FORMATS, renderPromotion, type PromoteFormat } from '../../engine/promote/render.ts';
import type { CliContext } from '../context.ts';

export function promoteCommand(ctx: CliContext): Command {
  return new Command('promote')
    .description("carry what an environment has applied and soaked to the next one: edit its file minimally and print the PR title and body with its plan")
    .requiredOption('--from <name>', 'environment to promote from (e.g. staging)')
    .requiredOption('--to <name>', 'environment to promote to (the one --from promotes_to)')
    .option('--write', 'write the edited file (default: print its diff)', false)
    .addOption(new Option('--format <format>', 'output format').choices(PROMOTE_FORMATS).default('text'))
    .action(async (options: { from: string; to: string; write: boolean; format: PromoteFormat }) => {
      const result = await promote({
        root: ctx.root,
        from: options.from,
        to: options.to,
        processEnv: ctx.env,
        now: clockFrom(ctx.env),
        commit: await currentCommit(ctx.root, ctx.env),
        write: options.write,
      });
      ctx.out(renderPromotion(result, options.format));
    });
}
