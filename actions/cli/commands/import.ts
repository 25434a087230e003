import { Command, Option } from 'commander';
import { importFlags } from '../../engine/adopt/import.ts';
import { compactJson } from '../../engine/plan/json-diff.ts';
import { loadEnvironment } from '../../engine/config/repository.ts';
import type { CliContext } from '../context.ts';

interface ImportOptions {
  env: string;
  table?: string;
  flag?: string[];
  dryRun?: boolean;
}

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .description("bring an existing flags table under Git: its rows become the environment file's flags, recorded in the ledger, so the next plan shows no changes")
    .requiredOption('--env <name>', 'environment whose database holds the table')
    .option('--table <schema.table>', "the table your services read flags from (default: the file's flag_store.table); written into the file as flag_store.table")
    .addOption(new Option('--flag <key...>', 'only these keys (repeatable); the others stay unmanaged (default: every key the file does not have)'))
    .option('--dry-run', 'show what would be imported; write nothing')
    .action(async (options: ImportOptions) => {
      const { environment: env, repository } = loadEnvironment(ctx.root, options.env);
      const result = await importFlags({
        root: ctx.root,
        env,
        repository,
        processEnv: ctx.env,
        ...(options.table ? { table: options.table } : {}),
        flags: options.flag ?? [],
        dryRun: Boolean(options.dryRun),
      });
      const verb = options.dryRun ? 'would import' : 'imported';
      ctx.out(result.imported.length === 0 ? `Nothing to import from ${result.table}: ${env.file} has every key${result.alreadyInFile.length ? ` (${result.alreadyInFile.length})` : ''} already.` : `${env.name}: ${verb} ${result.imported.length} flag(s) from ${result.table} into ${env.file}${result.ledgerId !== null ? ` (ledger entry #${result.ledgerId})` : ''}:`);
      for (const flag of result.imported) {
        const hint = flag.suggestion.kind === 'existing' ? `suggested contract: ${flag.suggestion.name}` : `suggested contract: contracts/${flag.suggestion.name}.schema.json (below)`;
        ctx.out(`  + ${flag.key} = ${compactJson(flag.value)}    (${hint})`);
      }
      if (result.tableAdded && !options.dryRun) ctx.out(`  flag_store.table set to ${result.table} in ${env.file}`);
      for (const key of result.alreadyInFile) ctx.out(`  = ${key}: already in ${env.file}; left as the file says (the plan shows any difference)`);
      if (result.unmanaged.length > 0) ctx.out(`Left unmanaged (not named; rollout never touches them): ${result.unmanaged.join(', ')}`);
      const fresh = result.imported.flatMap((f) => (f.suggestion.kind === 'new' ? [f.suggestion] : []));
      if (fresh.length > 0) {
        ctx.out('\nContracts suggested, not applied: save one as the file named, then add contract: <name> to the flag.');
        for (const s of fresh) ctx.out(`contracts/${s.name}.schema.json:\n${JSON.stringify(s.schema, null, 2)}`);
      }
      if (result.pendingMigrations > 0) {
        ctx.out(
          `\n${result.pendingMigrations} migration(s) in ${env.migrations.directory} are not recorded as applied on ${env.name}: if another tool applied them, record them with rollout migrate baseline --env ${env.name} --version ${result.newestPending}; until then plan lists them as pending.`,
        );
      }
      if (result.imported.length > 0 && !options.dryRun) ctx.out(`\nNext: rollout plan --env ${env.name} (no flag changes), then commit ${env.file}.`);
    });
}
