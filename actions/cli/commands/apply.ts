import { Command } from 'commander';
import { applyEnvironment } from '../../engine/apply/apply-environment.ts';
import { currentActor, currentCommit } from '../../engine/migrate/provenance.ts';
import { progressReporter } from '../../engine/migrate/index.ts';
import { readUpstream } from '../../engine/plan/upstream.ts';
import { summaryLine } from '../../engine/render/plan.ts';
import { withSession } from '../../engine/session.ts';
import { loadRepositorySettings } from '../../engine/config/repository-settings.ts';
import { clockFrom } from '../../engine/promote/clock.ts';
import type { CliContext } from '../context.ts';
import { parsePositiveInt, pullRequestNumber } from './options.ts';

export function applyCommand(ctx: CliContext): Command {
  return new Command('apply')
    .description('make the live database match an environment file: migrations, then flags with their ledger entry, under a lock')
    .requiredOption('--env <name>', 'environment to apply')
    .option('--plan-hash <hash>', 'refuse unless the plan still has this hash (the reviewed plan)')
    .option('--commit <sha>', 'commit being applied (default: GITHUB_SHA or git HEAD)')
    .option('--pr <number>', 'pull request being applied, for the ledger', parsePositiveInt)
    .action(async (options: { env: string; planHash?: string; commit?: string; pr?: number }) => {
      const env = await ctx.loadEnvironment(options.env);
      const commit = options.commit ?? (await currentCommit(ctx.root, ctx.env));
      const upstream = await readUpstream(ctx.root, env, ctx.env);
      const gates = { now: clockFrom(ctx.env), ladder: loadRepositorySettings(ctx.root).ladder, ...(upstream ? { upstream } : {}) };
      const result = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: true }, (session) =>
        applyEnvironment(session, {
          root: ctx.root,
          processEnv: ctx.env,
          commit,
          actor: currentActor(ctx.env),
          pullRequest: options.pr ?? pullRequestNumber(ctx.env),
          ...(options.planHash ? { expectedPlanHash: options.planHash } : {}),
          gates,
          onMigrationProgress: progressReporter({ isTTY: ctx.isTTY, githubActions: ctx.env.GITHUB_ACTIONS === 'true', out: (line) => ctx.out(line) }),
        }),
      );
      if (result.ledgerId === null) {
        ctx.out(`${env.name}: nothing to apply; live state matches Git (plan ${result.plan.hash.slice(0, 12)}).`);
        return;
      }
      ctx.out(`${env.name}: applied plan ${result.plan.hash.slice(0, 12)} — ${summaryLine(result.plan)}`);
      if (result.backup) ctx.out(`  backup: ${result.backup}`);
      for (const file of result.migrationsApplied) ctx.out(`  migrated ${file}`);
      for (const change of result.flagChanges) ctx.out(`  ${change.action} ${change.key}`);
      const held = result.plan.flags.filter((c) => c.action === 'hold');
      for (const change of held) ctx.out(`  kept ${change.key}: held by break-glass (ledger #${change.breakGlass?.ledgerId}); reconcile it into ${env.file}`);
      ctx.out(`  ledger entry #${result.ledgerId}`);
    });
}
