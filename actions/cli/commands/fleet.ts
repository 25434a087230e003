/**
 * The CLI's fleet side: plan, apply and status of an environment with targets (reached from
 * those commands when the environment is a fleet), and `rollout fleet matrix|report`, the
 * planning and aggregating steps of a fan-out over the GitHub Actions job matrix.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Environment } from '../../engine/config/model.ts';
import { UsageError } from '../../engine/errors.ts';
import { applyFleet, type FleetApplyReport } from '../../engine/fleet/apply.ts';
import { aggregateShardReports, planMatrix } from '../../engine/fleet/matrix.ts';
import { planFleet } from '../../engine/fleet/plan.ts';
import { renderFleetPlan, renderFleetReport, type ReportFormat } from '../../engine/fleet/render.ts';
import { withTargetSecrets } from '../../engine/fleet/secrets.ts';
import { readFleetStatus, renderFleetStatusText } from '../../engine/fleet/status.ts';
import { parseShard, type Shard } from '../../engine/fleet/waves.ts';
import { currentActor, currentCommit } from '../../engine/migrate/provenance.ts';
import { applyClockFrom, clockFrom } from '../../engine/promote/clock.ts';
import type { PlanFormat } from '../../engine/render/plan.ts';
import type { CliContext } from '../context.ts';
import { parsePositiveInt, pullRequestNumber } from './options.ts';

/** The options plan, apply and status take for a fleet. */
export interface FleetOptions {
  wave?: string;
  shard?: Shard;
  concurrency?: number;
}

/** Add --wave, --shard and --concurrency to a command that works on fleets too. */
export function withFleetOptions(command: Command): Command {
  return command
    .option('--wave <name>', 'fleet: only this wave')
    .option('--shard <i/n>', 'fleet: only shard i of n of the selected wave(s), e.g. 2/8 (a job of a matrix)', (text: string) => {
      try {
        return parseShard(text);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    })
    .option('--concurrency <n>', 'fleet: targets worked on at once (default: 8 per database server, 2 for embedded targets)', parsePositiveInt);
}

const selectOptions = (o: FleetOptions): FleetOptions => ({
  ...(o.wave !== undefined ? { wave: o.wave } : {}),
  ...(o.shard ? { shard: o.shard } : {}),
  ...(o.concurrency ? { concurrency: o.concurrency } : {}),
});

/** Refuse fleet options on an environment that is one database, rather than ignore them. */
export function refuseFleetOptions(env: Environment, options: FleetOptions): void {
  if (!env.fleet && (options.wave !== undefined || options.shard || options.concurrency)) {
    throw new UsageError(`${env.name} is one database, not a fleet: --wave, --shard and --concurrency apply to environments with targets: (docs/fleets.md).`);
  }
}

/** What every fleet operation is asked with: the repository, the environment, the run's variables (with the target secrets) and the commit. */
const planRequest = (ctx: CliContext, env: Environment, commit: string | null) => ({
  root: ctx.root,
  env,
  processEnv: withTargetSecrets(ctx.env),
  commit,
  ...(ctx.repository ? { repository: ctx.repository } : {}),
});

export async function fleetPlanAction(ctx: CliContext, env: Environment, options: FleetOptions & { format: PlanFormat; out?: string; commit: string | null; adopt?: boolean }): Promise<void> {
  const plan = await planFleet({
    ...planRequest(ctx, env, options.commit),
    now: clockFrom(ctx.env),
    // Each target's first apply adopts forward positions only with --adopt, as a single database's does.
    ...(options.adopt ? { adopt: true } : {}),
    ...selectOptions(options),
  });
  const rendered = renderFleetPlan(plan, options.format);
  if (options.out) writeFileSync(resolve(options.out), rendered);
  ctx.out(rendered);
  const s = plan.summary;
  if (s.blocked || s.refused || s.unreachable || s.failed) ctx.setExitCode(1);
}

export async function fleetApplyAction(
  ctx: CliContext,
  env: Environment,
  options: FleetOptions & { planHash?: string; commit: string | null; pr?: number; verify: boolean; adopt?: boolean; format: ReportFormat; out?: string },
): Promise<void> {
  const text = options.format === 'text';
  // A moved clock would skip every soak gate and wave soak: apply takes it only in a test run.
  const now = applyClockFrom(ctx.env);
  const report = await applyFleet({
    ...planRequest(ctx, env, options.commit),
    now,
    actor: currentActor(ctx.env),
    pullRequest: options.pr ?? pullRequestNumber(ctx.env),
    verify: options.verify,
    ...(options.adopt ? { adopt: true } : {}),
    ...(options.planHash ? { planHash: options.planHash } : {}),
    ...selectOptions(options),
    // One line per target as it finishes, so a long wave shows its progress.
    ...(text ? { onTarget: (r) => ctx.out(`  ${r.wave}/${r.target}: ${r.outcome}${r.reason ? ` — ${r.reason.split('\n')[0]}` : ''}`) } : {}),
  });
  if (options.out) writeFileSync(resolve(options.out), renderFleetReport(report, 'json'));
  ctx.out(renderFleetReport(report, options.format, now));
  if (report.stopped || report.targets.some((t) => t.outcome === 'failed' || t.outcome === 'reverted')) ctx.setExitCode(1);
}

export async function fleetStatusAction(ctx: CliContext, env: Environment, options: FleetOptions & { format: 'text' | 'json' }): Promise<void> {
  const status = await readFleetStatus(env, { root: ctx.root, processEnv: withTargetSecrets(ctx.env), ...selectOptions(options) }, selectOptions(options));
  ctx.out(options.format === 'json' ? JSON.stringify(status, null, 2) : renderFleetStatusText(status, clockFrom(ctx.env)));
}

export function fleetCommand(ctx: CliContext): Command {
  const fleet = new Command('fleet').description('the job matrix of a fleet: plan the next wave\'s shards, then aggregate their reports');
  fleet
    .command('matrix')
    .description('plan the fleet and print, as JSON, the next wave to apply and its shards (a GitHub Actions matrix), or why none may start yet')
    .requiredOption('--env <name>', 'fleet environment')
    .option('--max-shards <n>', 'at most this many jobs (GitHub allows 256 per matrix)', parsePositiveInt, 256)
    .option('--targets-per-shard <n>', 'at least this many targets per job', parsePositiveInt, 8)
    .option('--concurrency <n>', 'targets planned at once', parsePositiveInt)
    .option('--commit <sha>', 'commit being applied (default: GITHUB_SHA or git HEAD)')
    .action(async (options: { env: string; maxShards: number; targetsPerShard: number; concurrency?: number; commit?: string }) => {
      if (options.maxShards > 256) throw new UsageError(`Invalid --max-shards ${options.maxShards}. GitHub Actions runs at most 256 jobs per matrix.`);
      const pendingCommit = options.commit ?? currentCommit(ctx.root, ctx.env);
      const env = await ctx.loadEnvironment(options.env);
      const matrix = await planMatrix({
        ...planRequest(ctx, env, await pendingCommit),
        now: clockFrom(ctx.env),
        maxShards: options.maxShards,
        targetsPerShard: options.targetsPerShard,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      });
      ctx.out(JSON.stringify(matrix));
    });
  fleet
    .command('report')
    .description('aggregate the shard reports of one wave (apply --format json --out FILE) into the fleet report; exit 1 when the wave spent its failure budget')
    .requiredOption('--env <name>', 'fleet environment')
    .requiredOption('--wave <name>', 'the wave the shards applied')
    .argument('<files...>', 'the shards\' JSON reports')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--out <file>', 'also write the report as JSON to this file')
    .action(async (files: string[], options: { env: string; wave: string; format: ReportFormat; out?: string }) => {
      const env = await ctx.loadEnvironment(options.env);
      const shards = files.map((file) => JSON.parse(readFileSync(resolve(file), 'utf8')) as FleetApplyReport);
      const { report, next } = await aggregateShardReports(env, { root: ctx.root, processEnv: withTargetSecrets(ctx.env) }, options.wave, shards);
      if (options.out) writeFileSync(resolve(options.out), `${JSON.stringify({ ...report, next }, null, 2)}\n`);
      ctx.out(options.format === 'json' ? JSON.stringify({ ...report, next }, null, 2) : `${renderFleetReport(report, options.format)}\nnext: ${next}`);
      if (next === 'stop') ctx.setExitCode(1);
    });
  return fleet;
}
