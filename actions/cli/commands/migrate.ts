/** `rollout migrate status|plan|apply|baseline|adopt --env NAME`: thin wiring of the migrator to the terminal. */
import { Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import type { Environment } from '../../engine/config/model.ts';
import { UsageError } from '../../engine/errors.ts';
import { hasErrors } from '../../engine/problems.ts';
import { formatDuration } from '../../engine/config/duration.ts';
import { readOnly, withSession, type Session } from '../../engine/session.ts';
import {
  ADOPT_SOURCES,
  adoptMigrations,
  renderAdoption,
  type AdoptSource,
  applyMigrations,
  baselineMigrations,
  inspectMigrations,
  previewMigrations,
  progressReporter,
  renderPreview,
  renderStatus,
} from '../../engine/migrate/index.ts';

export function migrateCommand(ctx: CliContext): Command {
  const migrate = new Command('migrate').description("Apply plain-SQL migrations from the environment's migrations.directory (migrations/ unless it names another, e.g. prisma/migrations; history in rollout.schema_migrations)");

  migrate
    .command('status')
    .description('Show applied, pending, changed, missing and failed migrations')
    .requiredOption('--env <name>', 'environment (environments/<name>.yaml)')
    .action(async (opts: { env: string }) => {
      await session(ctx, opts.env, false, async ({ env, client }) => {
        // A read-only snapshot: status cannot write, and sees files × history at one instant.
        const status = await readOnly(client, () => inspectMigrations(client, context(ctx, env)));
        for (const line of renderStatus(status, env.name)) ctx.out(line);
        if (hasErrors(status.problems)) ctx.setExitCode(1);
      });
    });

  migrate
    .command('plan')
    .description('Read-only: list pending migrations, how each will run, and lint findings')
    .requiredOption('--env <name>', 'environment (environments/<name>.yaml)')
    .option('--retry-failed', 'include migrations recorded as failed')
    .action(async (opts: { env: string; retryFailed?: boolean }) => {
      await session(ctx, opts.env, false, async ({ env, client }) => {
        const preview = await readOnly(client, () => previewMigrations(client, context(ctx, env), { retryFailed: opts.retryFailed ?? false }));
        for (const line of renderPreview(preview, env.name)) ctx.out(line);
        if (hasErrors(preview.problems)) ctx.setExitCode(1);
      });
    });

  migrate
    .command('apply')
    .description('Apply pending migrations under the environment lock')
    .requiredOption('--env <name>', 'environment (environments/<name>.yaml)')
    .option('--retry-failed', 're-run migrations recorded as failed, once you fixed them')
    .action(async (opts: { env: string; retryFailed?: boolean }) => {
      await session(ctx, opts.env, true, async ({ env, db, client }) => {
        const started = performance.now();
        const progress = progressReporter({ out: (line) => ctx.out(line), isTTY: ctx.isTTY, githubActions: ctx.env.GITHUB_ACTIONS === 'true' });
        const report = await applyMigrations(client, context(ctx, env), {
          retryFailed: opts.retryFailed ?? false,
          backup: async (directory) => {
            const file = await db.backup(directory);
            ctx.out(`Backed up ${db.label} to ${file}`);
            return file;
          },
          onProgress: progress,
        }).finally(() => progress.flush());
        for (const p of report.problems) ctx.err(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`);
        ctx.out(
          report.applied.length === 0
            ? `${env.name} is up to date: no pending migrations.`
            : `Applied ${report.applied.length} migration(s) to ${env.name} in ${formatDuration(performance.now() - started)}.`,
        );
      });
    });

  migrate
    .command('baseline')
    .description('Adopt an existing database: record every migration up to --version as applied, without running it')
    .requiredOption('--env <name>', 'environment (environments/<name>.yaml)')
    .requiredOption('--version <version>', 'the newest migration the database already has')
    .action(async (opts: { env: string; version: string }) => {
      if (!/^\d+$/.test(opts.version)) throw new UsageError(`Invalid --version '${opts.version}'. Expected the digits of a migration version, e.g. 20261125120000.`);
      await session(ctx, opts.env, true, async ({ env, client }) => {
        const adopted = await baselineMigrations(client, context(ctx, env), BigInt(opts.version));
        for (const file of adopted) ctx.out(`  baselined ${file.path}`);
        ctx.out(`Recorded ${adopted.length} migration(s) up to ${opts.version} as applied to ${env.name} (nothing was run).`);
      });
    });

  migrate
    .command('adopt')
    .description('Adopt a database another tool migrated: match its history table to the files and record them as applied (read-only without --write)')
    .requiredOption('--env <name>', 'environment (environments/<name>.yaml)')
    .addOption(new Option('--from <tool>', 'the tool whose history to read (detected when the database has one)').choices(ADOPT_SOURCES))
    .option('--table <schema.table>', "the tool's history table, when it is not where the tool keeps it by default or there are several")
    .option('--write', 'record the adopted migrations (otherwise only show what would be recorded)')
    .action(async (opts: { env: string; from?: AdoptSource; table?: string; write?: boolean }) => {
      const write = opts.write ?? false;
      await session(ctx, opts.env, write, async ({ env, client }) => {
        const run = () => adoptMigrations(client, context(ctx, env), { ...(opts.from ? { from: opts.from } : {}), ...(opts.table ? { table: opts.table } : {}), write });
        const report = write ? await run() : await readOnly(client, run);
        for (const line of renderAdoption(report.plan, env.name, report.recorded, write)) ctx.out(line);
        if (hasErrors(report.plan.problems)) ctx.setExitCode(1);
      });
    });

  return migrate;
}

const context = (ctx: CliContext, env: Environment) => ({ root: ctx.root, env, processEnv: ctx.env });

/** Load the environment, open its database (taking the environment lock for writers), run `fn`, always clean up. */
async function session(ctx: CliContext, name: string, lock: boolean, fn: (session: Session) => Promise<void>): Promise<void> {
  const env = await ctx.loadEnvironment(name);
  await withSession(env, { root: ctx.root, processEnv: ctx.env, lock }, fn);
}
