import { Command, Option } from 'commander';
import { currentActor } from '../../engine/migrate/provenance.ts';
import { clockFrom } from '../../engine/promote/clock.ts';
import { HEALTH_EXIT_CODES, renderHealthReport, runMonitors } from '../../engine/monitors/index.ts';
import { checkAccess } from '../../engine/checks/index.ts';
import { readOnly, withSession } from '../../engine/session.ts';
import { readIntegrityWarnings } from '../../engine/store/ledger-audit.ts';
import { readGitSync } from '../../engine/status/status.ts';
import type { CliContext } from '../context.ts';
import { parseDurationOption } from './verify.ts';

export function healthCommand(ctx: CliContext): Command {
  return new Command('health')
    .description('measure an environment\'s monitors and record the measurements; a breach trips its kill switch, moves back the flags it is an exit criterion of, dispatches or calls a webhook (exit 0 healthy, 1 breach, 3 unknown)')
    .requiredOption('--env <name>', 'environment to measure')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--no-act', 'measure and report only: record nothing, trip no kill switch, move no flag, call nothing (dry run)')
    .option('--timeout <duration>', 'timeout per measurement, e.g. 10s (default 30s)', parseDurationOption)
    .addHelpText('after', '\nExit codes: 0 every monitor healthy; 1 at least one breach; 3 no breach but some monitor unknown (no data or a failing query: never counted as healthy).')
    .action(async (options: { env: string; format: 'text' | 'json' | 'markdown'; act: boolean; timeout?: number }) => {
      const env = await ctx.loadEnvironment(options.env);
      const { report, ledger, sync } = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, async (session) => {
        const measured = await runMonitors(env, {
          root: ctx.root,
          access: checkAccess(env, session.db),
          writer: () => session.writer(),
          actor: currentActor(ctx.env),
          act: options.act,
          now: clockFrom(ctx.env),
          processEnv: ctx.env,
          github: { apiUrl: ctx.env.GITHUB_API_URL ?? 'https://api.github.com', ...(ctx.env.GITHUB_REPOSITORY ? { repository: ctx.env.GITHUB_REPOSITORY } : {}) },
          ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        });
        const client = await session.writer();
        // Read after the monitors acted: a kill switch a breach just tripped is a hold to reconcile.
        const ledger = await readOnly(client, () => readIntegrityWarnings(client, env.name, { quick: false }));
        return { report: measured, ledger, sync: await readOnly(client, () => readGitSync(client, env)) };
      });
      ctx.out(renderHealthReport(report, options.format, sync));
      // Not a monitor's verdict (the exit code stays the monitors'): a ledger someone rewrote is said where a person looks.
      for (const warning of ledger.warnings) ctx.err(`warning: ${warning}`);
      ctx.setExitCode(HEALTH_EXIT_CODES[report.status]);
    });
}
