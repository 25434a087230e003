import { Command, Option } from 'commander';
import { currentActor } from '../../engine/migrate/provenance.ts';
import { clockFrom } from '../../engine/promote/clock.ts';
import { HEALTH_EXIT_CODES, renderHealthReport, runMonitors } from '../../engine/monitors/index.ts';
import { checkAccess } from '../../engine/checks/guard.ts';
import { parseMemoDir } from '../../engine/checks/parse-memo.ts';
import { readOnly, withSession } from '../../engine/session.ts';
import { readIntegrityWarnings } from '../../engine/store/ledger-audit.ts';
import { readGitSync } from '../../engine/status/status.ts';
import type { CliContext } from '../context.ts';
import { recordTiming, sinceStart, timed } from '../../engine/timings.ts';
import { describeExport, writeConfiguredExport } from '../../engine/export/export-file.ts';
import { parseDurationOption, parsePositiveInt } from './options.ts';
import { UsageError } from '../../engine/errors.ts';

export function healthCommand(ctx: CliContext): Command {
  return new Command('health')
    .description('measure an environment\'s monitors and record the measurements; a breach trips its kill switch, moves back the flags it is an exit criterion of, dispatches or calls a webhook (exit 0 healthy, 1 breach, 3 unknown)')
    .requiredOption('--env <name>', 'environment to measure')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--no-act', 'measure and report only: record nothing, trip no kill switch, move no flag, call nothing (dry run)')
    .option('--timeout <duration>', 'timeout per measurement, e.g. 10s (default 30s)', parseDurationOption)
    .option('--wave <name>', 'fleet: only the targets of this wave (default: every target)')
    .option('--concurrency <n>', 'measured at once: a fleet\'s targets; one database\'s monitors on a server (default 4; the embedded database measures one at a time)', parsePositiveInt)
    .addHelpText('after', '\nExit codes: 0 every monitor healthy; 1 at least one breach; 3 no breach but some monitor unknown (no data or a failing query: never counted as healthy).')
    .action(async (options: { env: string; format: 'text' | 'json' | 'markdown'; act: boolean; timeout?: number; wave?: string; concurrency?: number }) => {
      const env = await ctx.loadEnvironment(options.env);
      const common = {
        root: ctx.root,
        actor: currentActor(ctx.env),
        act: options.act,
        now: clockFrom(ctx.env),
        github: { apiUrl: ctx.env.GITHUB_API_URL ?? 'https://api.github.com', ...(ctx.env.GITHUB_REPOSITORY ? { repository: ctx.env.GITHUB_REPOSITORY } : {}) },
        ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        // The same monitor queries every run: their parse trees are kept in the user's cache.
        parseMemoDir: parseMemoDir(ctx.env),
      };
      if (env.fleet) {
        // Each target's monitors, by the same runner; a breach acts on the target that breached.
        // Loaded here: the fleet layer reaches most of the engine (plan, apply, checks), which
        // one database's health never runs and would otherwise compile at every start.
        const [{ fleetHealthExitCode, healthFleet, renderFleetHealth }, { withTargetSecrets }] = await Promise.all([import('../../engine/fleet/health.ts'), import('../../engine/fleet/secrets.ts')]);
        const health = await healthFleet(env, {
          ...common,
          processEnv: withTargetSecrets(ctx.env),
          ...(options.wave !== undefined ? { wave: options.wave } : {}),
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        });
        ctx.out(renderFleetHealth(health, options.format));
        ctx.setExitCode(fleetHealthExitCode(health));
        return;
      }
      if (options.wave !== undefined) throw new UsageError(`${env.name} is one database, not a fleet: --wave applies to environments with targets: (docs/fleets.md).`);
      const { report, ledger, sync, exported } = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, async (session) => {
        recordTiming('health: until connected', sinceStart());
        const measured = await timed('health: monitors', () => runMonitors(env, {
          ...common,
          access: checkAccess(env, session.db),
          writer: () => session.writer(),
          processEnv: ctx.env,
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        }));
        const client = await session.writer();
        // Read after the monitors acted: a kill switch a breach just tripped is a hold to reconcile.
        const ledger = await timed('health: ledger check', () => readOnly(client, () => readIntegrityWarnings(client, env.name, { quick: false })));
        // A breach may have moved flags (kill switch, auto-rollback): the export: file follows what is live.
        const exported = options.act ? await writeConfiguredExport(client, env, ctx.root).catch((error: unknown) => ({ file: env.export?.file ?? '', failure: (error as Error).message })) : null;
        return { report: measured, ledger, sync: await timed('health: git sync', () => readOnly(client, () => readGitSync(client, env))), exported };
      });
      ctx.out(renderHealthReport(report, options.format, sync));
      // The exit code stays the monitors' verdict; a stale file is said on stderr.
      if (exported?.failure !== undefined) ctx.err(`warning: ${describeExport(exported, env)}`);
      // Not a monitor's verdict (the exit code stays the monitors'): a ledger someone rewrote is said where a person looks.
      for (const warning of ledger.warnings) ctx.err(`warning: ${warning}`);
      ctx.setExitCode(HEALTH_EXIT_CODES[report.status]);
    });
}
