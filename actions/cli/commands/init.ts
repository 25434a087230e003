import { Command, Option } from 'commander';
import { currentBranch, workflowPlacement } from '../../engine/adopt/git-context.ts';
import { detectMigrationsFolder, MIGRATION_FOLDERS } from '../../engine/adopt/detect.ts';
import { ROLLOUT_REPOSITORY, ROLLOUT_TAG } from '../../engine/adopt/release.ts';
import { ignoresRolloutData, scaffoldFiles, urlVariables, writeNewFiles } from '../../engine/adopt/scaffold.ts';
import { isSupabaseHistory } from '../../engine/db/platform-supabase.ts';
import type { CliContext } from '../context.ts';

interface InitOptions {
  env?: string[];
  migrations?: string;
  workflows: boolean;
  actionsRepository: string;
  actionsRef: string;
  branch?: string;
}

export function initCommand(ctx: CliContext): Command {
  return new Command('init')
    .description('start a repository: rollout.yaml, environments/ (local plus the ones named), a starter contract and the GitHub workflows; never overwrites a file')
    .addOption(new Option('--env <name...>', 'server environments to create, upstream first (repeatable): --env staging --env production'))
    .option('--migrations <dir>', `folder of existing migrations (default: the first of ${MIGRATION_FOLDERS.join(', ')} that has files; else, in a monorepo, the one tool folder a package has, e.g. packages/db/prisma/migrations)`)
    .option('--no-workflows', 'do not write .github/workflows/rollout-*.yml')
    .option('--actions-repository <owner/name>', 'repository of the rollout actions the workflows call', ROLLOUT_REPOSITORY)
    .option('--actions-ref <ref>', 'release the workflows are pinned to', ROLLOUT_TAG)
    .option('--branch <name>', 'branch merges apply from (default: the branch checked out, or main)')
    .action((options: InitOptions) => {
      const root = ctx.root;
      const environments = options.env ?? [];
      const migrations = options.migrations?.replace(/\/+$/, '') ?? detectMigrationsFolder(root);
      const files = scaffoldFiles({
        environments,
        ...(migrations ? { migrations } : {}),
        workflows: options.workflows,
        repository: options.actionsRepository,
        tag: options.actionsRef,
        branch: options.branch ?? currentBranch(root),
        workflowsAt: workflowPlacement(root),
      });
      const report = writeNewFiles(root, files);
      for (const path of report.created) ctx.out(`created  ${path}`);
      for (const path of report.skipped) ctx.out(`skipped  ${path} (it exists; left as it is)`);
      if (migrations) ctx.out(`Every environment reads its migrations from ${migrations}/.`);
      if (migrations && isSupabaseHistory(migrations) && report.created.includes('environments/local.yaml')) {
        ctx.out('environments/local.yaml says platform: supabase: the embedded database gets stand-ins for what a Supabase project provides (auth, storage, roles, the extensions schema).');
      }
      if (!ignoresRolloutData(root)) ctx.out('Add .rollout/ to your .gitignore: it holds the embedded database and backups.');
      ctx.out('\nNext:');
      ctx.out('  rollout validate');
      ctx.out('  rollout plan --env local && rollout apply --env local');
      const production = files.find((f) => f.path.endsWith('rollout-merge.yml'))?.content.match(/production-environment: (\S+)/)?.[1];
      for (const name of environments) {
        const { urlEnv, readonlyUrlEnv } = urlVariables(name);
        const glass = name === production ? ` (and in "${name}-break-glass", without reviewers, for health and break-glass)` : '';
        ctx.out(`  ${name}: the writer URL as the secret ${urlEnv} of the GitHub environment "${name}"${glass}; ${readonlyUrlEnv} as a repository secret`);
      }
      if (environments.length > 0) ctx.out('  an existing flags table: rollout import --env NAME --table public.feature_flags');
    });
}
