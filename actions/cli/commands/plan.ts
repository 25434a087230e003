import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { currentCommit } from '../../engine/migrate/provenance.ts';
import { PLAN_FORMATS, renderPlan, type PlanFormat } from '../../engine/render/plan.ts';
import { planOperation } from '../../engine/operations.ts';
import { clockFrom } from '../../engine/promote/clock.ts';
import type { CliContext } from '../context.ts';
import { checkOutputPath, writeOutputFile } from './options.ts';
import { fleetPlanAction, refuseFleetOptions, withFleetOptions, type FleetOptions } from './fleet.ts';

export function planCommand(ctx: CliContext): Command {
  const command = new Command('plan')
    .description('show the difference between an environment file and its live database (never writes)')
    .requiredOption('--env <name>', 'environment to plan')
    .addOption(new Option('--format <format>', 'output format').choices(PLAN_FORMATS).default('text'))
    .option('--out <file>', 'also write the plan to this file (in --format)')
    .option('--commit <sha>', 'commit the plan is for (default: GITHUB_SHA or git HEAD)')
    .option('--adopt', 'show the verdicts apply --adopt would give (a first apply adopting canary or full positions the upstream has not reached)');
  return withFleetOptions(command)
    .action(async (options: FleetOptions & { env: string; format: PlanFormat; out?: string; commit?: string; adopt?: boolean }) => {
      // `git rev-parse` runs while the environment file is parsed (it never rejects).
      if (options.out) checkOutputPath('--out', resolve(options.out));
      const pendingCommit = options.commit ?? currentCommit(ctx.root, ctx.env);
      const env = await ctx.loadEnvironment(options.env);
      const commit = await pendingCommit;
      refuseFleetOptions(env, options);
      if (env.fleet) return fleetPlanAction(ctx, env, { ...options, commit });
      const plan = await planOperation({ root: ctx.root, env, processEnv: ctx.env, commit, now: clockFrom(ctx.env), ...(options.adopt ? { adopt: true } : {}), ...(ctx.repository ? { repository: ctx.repository } : {}) });
      const rendered = renderPlan(plan, options.format, { color: ctx.isTTY && options.format === 'text' });
      if (options.out) writeOutputFile('--out', resolve(options.out), options.format === 'text' ? renderPlan(plan, 'text') : rendered);
      ctx.out(rendered);
      if (plan.summary.blocked || plan.summary.refused > 0) ctx.setExitCode(1);
    });
}
