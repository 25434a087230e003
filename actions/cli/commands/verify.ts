import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { liveFlagValues, renderCheckReport, renderJunit, runEnvironmentChecks, type ReportFormat } from '../../engine/checks/index.ts';
import type { Environment } from '../../engine/config/model.ts';
import { maskUrlCredentials } from '../../engine/secrets.ts';
import { withSession } from '../../engine/session.ts';
import { secretValues, type CliContext } from '../context.ts';
import { parseDuration } from '../../engine/config/duration.ts';
import { parsePositiveInt } from './options.ts';

export function verifyCommand(ctx: CliContext): Command {
  return new Command('verify')
    .description('run an environment\'s checks against its live system, read-only (exit 1 when any fails)')
    .requiredOption('--env <name>', 'environment to check')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--junit <file>', 'also write a JUnit XML report (for CI test tabs)')
    .option('--concurrency <n>', 'checks run at once (default 4)', parsePositiveInt)
    .option('--timeout <duration>', 'default timeout per check, e.g. 10s (default 30s)', parseDurationOption)
    .action(async (options: { env: string; format: ReportFormat; junit?: string; concurrency?: number; timeout?: number }) => {
      const env = readOnlyTarget(await ctx.loadEnvironment(options.env), ctx.env);
      const report = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, async ({ client, db }) =>
        runEnvironmentChecks(env, {
          root: ctx.root,
          processEnv: ctx.env,
          connect: () => db.connect(),
          flags: await liveFlagValues(client, env),
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        }),
      );
      ctx.out(renderCheckReport(report, options.format));
      if (options.junit) writeFileSync(resolve(ctx.root, options.junit), scrub(renderJunit(report), ctx.env));
      if (!report.ok) ctx.setExitCode(1);
    });
}

/** Checks read: when the environment names a read-only role's URL and it is set, connect with that. */
export function readOnlyTarget(env: Environment, processEnv: NodeJS.ProcessEnv): Environment {
  const db = env.database;
  if (db.kind === 'url' && db.readonlyUrlEnv && processEnv[db.readonlyUrlEnv]) return { ...env, database: { ...db, urlEnv: db.readonlyUrlEnv } };
  return env;
}

/** Files are not printed through ctx.out, so mask them the same way. */
export function scrub(text: string, env: NodeJS.ProcessEnv): string {
  return secretValues(env).reduce((acc, secret) => acc.split(secret).join('***'), maskUrlCredentials(text));
}

/** "10s", "500ms", "2m": a duration in milliseconds. */
export function parseDurationOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`Invalid duration '${text}'. Expected a number with a unit: 500ms, 10s, 2m, 1h.`);
  return ms;
}
