import { Command } from 'commander';
import { currentActor, currentCommit } from '../../engine/migrate/provenance.ts';
import { renderRestoreChanges, renderRestorePlan } from '../../engine/restore/restore-plan.ts';
import { restoreOperation } from '../../engine/restore/restore.ts';
import { UsageError } from '../../engine/errors.ts';
import type { CliContext } from '../context.ts';

export function restoreCommand(ctx: CliContext): Command {
  return new Command('restore')
    .description('put an environment\'s database back to a backup apply took: shows the plan; with --yes restores it, under the lock, recorded in the ledger')
    .requiredOption('--env <name>', 'environment to restore')
    .option('--backup <file>', 'the backup to restore (default: the newest of this environment in migrations.backup.directory)')
    .option('--from <file>', 'a pg_dump custom-format archive made elsewhere (pg_dump -Fc; e.g. a CI dump) instead of a backup apply took: its sha256 goes in the ledger; server databases only')
    .option('--into <name>', 'restore into a new database of this name on the same server (embedded: a new folder), leaving the environment\'s as it is')
    .option('--reason <text>', 'why (goes in the ledger)')
    .option('--yes', 'restore; without it, only show what would be restored')
    .action(async (options: { env: string; backup?: string; from?: string; into?: string; reason?: string; yes?: boolean }) => {
      if (options.backup !== undefined && options.from !== undefined) throw new UsageError('--backup and --from name the file to restore twice: give one (--backup for a backup apply took, --from for a dump made elsewhere).');
      const env = await ctx.loadEnvironment(options.env);
      const { plan, done } = await restoreOperation({
        root: ctx.root,
        env,
        ...(ctx.repository ? { repository: ctx.repository } : {}),
        processEnv: ctx.env,
        actor: currentActor(ctx.env),
        commit: await currentCommit(ctx.root, ctx.env),
        reason: options.reason ?? null,
        ...(options.backup !== undefined ? { backup: options.backup } : {}),
        ...(options.from !== undefined ? { from: options.from } : {}),
        ...(options.into !== undefined ? { into: options.into } : {}),
        confirm: options.yes ?? false,
        cwd: process.cwd(),
      });
      if (!done) {
        for (const line of renderRestorePlan(plan)) ctx.out(line);
        return;
      }
      if (done.into) {
        ctx.out(`${env.name}: restored ${plan.backup.display} into ${done.into}; ${plan.database} is unchanged. Ledger entry #${done.ledgerId} (kind restore).`);
        return;
      }
      ctx.out(`${env.name}: restored ${plan.backup.display} into ${plan.database}. Ledger entry #${done.ledgerId} (kind restore).`);
      if (plan.preserved.length > 0) ctx.out(`  kept as they were: ${plan.preserved.join(', ')}`);
      for (const line of renderRestoreChanges(done.changes)) ctx.out(line);
      if (done.aside) ctx.out(`  the data directory as it was before is in ${done.aside}: delete it once you no longer need it.`);
      ctx.out(`  Next: rollout plan --env ${env.name} shows what applying Git would change now; make Git say what should happen before the next apply.`);
    });
}
