import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { checkAccess, liveFlagView, renderCheckReport, renderJunit, runEnvironmentChecks, type ReportFormat } from '../../engine/checks/index.ts';
import { withSession } from '../../engine/session.ts';
import type { CliContext } from '../context.ts';
import { readOnlyTarget } from '../../engine/operations.ts';
import { secretScrubber } from '../../engine/secrets.ts';
import { checkOutputPath, parseDurationOption, parsePositiveInt, writeOutputFile } from './options.ts';

export function verifyCommand(ctx: CliContext): Command {
  return new Command('verify')
    .description('run an environment\'s checks against its live system, read-only (exit 1 when any fails)')
    .requiredOption('--env <name>', 'environment to check')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--junit <file>', 'also write a JUnit XML report (for CI test tabs)')
    .option('--concurrency <n>', 'checks run at once (default 4)', parsePositiveInt)
    .option('--timeout <duration>', 'default timeout per check, e.g. 10s (default 30s)', parseDurationOption)
    .action(async (options: { env: string; format: ReportFormat; junit?: string; concurrency?: number; timeout?: number }) => {
      if (options.junit) checkOutputPath('--junit', resolve(ctx.root, options.junit));
      const env = readOnlyTarget(await ctx.loadEnvironment(options.env), ctx.env);
      const report = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, async ({ client, db }) =>
        runEnvironmentChecks(env, {
          root: ctx.root,
          processEnv: ctx.env,
          access: checkAccess(env, db),
          ...(await liveFlagView(client, env)),
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        }),
      );
      ctx.out(renderCheckReport(report, options.format));
      if (options.junit) writeOutputFile('--junit', resolve(ctx.root, options.junit), secretScrubber(ctx.env)(renderJunit(report)));
      if (!report.ok) ctx.setExitCode(1);
    });
}
