/**
 * The fleet action's three steps of a fan-out over the job matrix: `matrix` (the planning job:
 * the next wave and its shards), `apply` (one shard job: its targets with the pool, a JSON report
 * for the aggregating job) and `report` (the aggregating job: every shard's report joined,
 * the wave's budget counted across shards, whether the next wave may start).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadEnvironment } from '../engine/config/repository.ts';
import { UsageError } from '../engine/errors.ts';
import { applyFleet, type FleetApplyReport } from '../engine/fleet/apply.ts';
import { aggregateShardReports, planMatrix, type FleetMatrix, type NextStep } from '../engine/fleet/matrix.ts';
import { fleetReportHeadline, renderFleetReport } from '../engine/fleet/render.ts';
import { withTargetSecrets } from '../engine/fleet/secrets.ts';
import { parseShard, type Shard } from '../engine/fleet/waves.ts';
import { readBoolean, readHash, readInput, readRoot, readRunContext, type Env, type RunContext } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export type FleetCommand = 'matrix' | 'apply' | 'report';

export interface FleetInputs {
  command: FleetCommand;
  root: string;
  environment: string;
  wave: string | null;
  shard: Shard | null;
  planHash: string | null;
  concurrency: number | null;
  maxShards: number;
  targetsPerShard: number;
  /** apply: a target's first apply may adopt canary or full positions the upstream has not reached (stages/first-apply.ts). */
  adopt: boolean;
  /** apply: where the shard's JSON report goes; report: the folder holding every shard's. */
  reportPath: string;
  context: RunContext;
}

function readCount(env: Env, name: string, fallback: number | null, max = Infinity): number | null {
  const text = readInput(env, name);
  if (text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new UsageError(`Invalid input ${name} '${text}'. Expected a whole number from 1${max < Infinity ? ` to ${max}` : ''}.`);
  return value;
}

export function parseFleetInputs(env: Env): FleetInputs {
  const command = readInput(env, 'command', { required: true });
  if (command !== 'matrix' && command !== 'apply' && command !== 'report') throw new UsageError(`Invalid input command '${command}'. Expected matrix, apply or report.`);
  const shard = readInput(env, 'shard');
  const wave = readInput(env, 'wave');
  if (command === 'report' && wave === '') throw new UsageError("Missing input 'wave': the report step aggregates one wave's shards (wave: ${{ needs.plan.outputs.wave }}).");
  return {
    command,
    root: readRoot(env),
    environment: readInput(env, 'environment', { required: true }),
    wave: wave || null,
    shard: shard ? parseShard(shard) : null,
    planHash: readHash(env, 'plan-hash'),
    concurrency: readCount(env, 'concurrency', null),
    maxShards: readCount(env, 'max-shards', 256, 256)!,
    targetsPerShard: readCount(env, 'targets-per-shard', 8)!,
    adopt: readBoolean(env, 'adopt', false),
    reportPath: resolve(env.GITHUB_WORKSPACE ?? process.cwd(), readInput(env, 'report-path', { fallback: command === 'report' ? 'fleet-reports' : join(env.RUNNER_TEMP ?? '.', 'rollout-fleet-report.json') })),
    context: readRunContext(env),
  };
}

export type FleetStepResult =
  | { command: 'matrix'; matrix: FleetMatrix }
  | { command: 'apply'; report: FleetApplyReport }
  | { command: 'report'; report: FleetApplyReport; next: NextStep };

export async function fleetStep(inputs: FleetInputs, env: NodeJS.ProcessEnv, runtime: Runtime): Promise<FleetStepResult> {
  const { environment, repository } = loadEnvironment(inputs.root, inputs.environment);
  const processEnv = withTargetSecrets(env);
  const base = { root: inputs.root, env: environment, processEnv, commit: inputs.context.sha || null, repository };
  if (inputs.command === 'matrix') {
    const matrix = await planMatrix({ ...base, maxShards: inputs.maxShards, targetsPerShard: inputs.targetsPerShard, ...(inputs.concurrency ? { concurrency: inputs.concurrency } : {}) });
    runtime.info(matrix.reason);
    await runtime.summary(`### rollout fleet \`${environment.name}\`\n\n${matrix.reason}\n`);
    return { command: 'matrix', matrix };
  }
  if (inputs.command === 'apply') {
    const report = await applyFleet({
      ...base,
      actor: inputs.context.actor || 'github-actions',
      pullRequest: inputs.context.pullRequest,
      verify: true,
      ...(inputs.adopt ? { adopt: true } : {}),
      ...(inputs.wave ? { wave: inputs.wave } : {}),
      ...(inputs.shard ? { shard: inputs.shard } : {}),
      ...(inputs.planHash ? { planHash: inputs.planHash } : {}),
      ...(inputs.concurrency ? { concurrency: inputs.concurrency } : {}),
      onTarget: (r) => runtime.info(`${r.wave}/${r.target}: ${r.outcome}${r.reason ? ` — ${r.reason.split('\n')[0]}` : ''}`),
    });
    writeFileSync(inputs.reportPath, renderFleetReport(report, 'json'));
    await runtime.summary(renderFleetReport(report, 'markdown'));
    return { command: 'apply', report };
  }
  const files = readdirSync(inputs.reportPath, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  const shards = files.map((f) => JSON.parse(readFileSync(join(inputs.reportPath, f), 'utf8')) as FleetApplyReport);
  const { report, next } = await aggregateShardReports(environment, { root: inputs.root, processEnv }, inputs.wave!, shards);
  runtime.info(fleetReportHeadline(report));
  await runtime.summary(`${renderFleetReport(report, 'markdown')}\nNext: **${next}**${next === 'continue' ? ' — the next run of this workflow starts the next wave (after its soak).' : ''}\n`);
  return { command: 'report', report, next };
}
