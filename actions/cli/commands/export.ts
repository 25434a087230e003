import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { EXPORT_FORMATS, renderExport, type ExportFormat } from '../../engine/export/export.ts';
import { readLiveDefinitions } from '../../engine/export/live-definitions.ts';
import { describeExport, replaceFile, type ExportWrite } from '../../engine/export/export-file.ts';
import type { Environment } from '../../engine/config/model.ts';
import { desiredDefinitions } from '../../engine/serving/definitions.ts';
import { readOnly, withSession } from '../../engine/session.ts';
import type { CliContext } from '../context.ts';

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description("write an environment's live flag definitions for other tools: a flagd flag-definitions file for flagd and its providers")
    .requiredOption('--env <name>', 'environment')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('flagd'))
    .option('--out <file>', 'write to this file (replaced atomically) instead of standard output')
    .option('--desired', "export Git's definitions (the environment file) instead of the live ones; needs no database")
    .action(async (options: { env: string; format: ExportFormat; out?: string; desired?: boolean }) => {
      const env = await ctx.loadEnvironment(options.env);
      const live = options.desired
        ? { definitions: desiredDefinitions(env), problems: [] }
        : await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, ({ client }) => readOnly(client, () => readLiveDefinitions(client, env.name)));
      const rendered = renderExport(options.format, env.name, live.definitions, live.problems);
      if (rendered.problems.length > 0) {
        for (const { key, problem } of rendered.problems) ctx.err(`error: ${env.name}: flag ${key}: ${problem}`);
        ctx.err(`${rendered.problems.length} flag(s) cannot be exported as ${options.format}; nothing was written. Fix them in ${env.file}${options.desired ? '' : ' and apply'}, then export again.`);
        ctx.setExitCode(1);
        return;
      }
      if (!options.out) {
        ctx.out(rendered.text);
        return;
      }
      await replaceFile(resolve(options.out), rendered.text);
      ctx.err(`${env.name}: wrote ${rendered.flags} flag(s) as ${options.format} definitions to ${options.out}`);
    });
}

/** The export: file: written, or not written and why (an error: services reading the file would be served stale definitions). */
export function reportExport(ctx: CliContext, env: Environment, exported: ExportWrite | null): void {
  if (!exported) return;
  if (exported.failure !== undefined) {
    ctx.err(`error: ${describeExport(exported, env)}`);
    ctx.setExitCode(1);
  } else ctx.out(describeExport(exported, env));
}
