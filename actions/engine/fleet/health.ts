/**
 * Health of a fleet: every target's monitors measured by the single-database runner (its checks
 * role, its measurements, its breach actions), in a bounded pool. A breach acts on the target
 * that breached: its kill switch, its stage rollback, its ledger. The fleet's verdict is the
 * worst of its targets'; a target that cannot be reached is unknown, never healthy.
 */
import { checkAccess } from '../checks/index.ts';
import type { Environment } from '../config/model.ts';
import { toError } from '../errors.ts';
import { HEALTH_EXIT_CODES, renderHealthReport, runMonitors, type HealthReport, type HealthStatus, type RunMonitorsOptions } from '../monitors/index.ts';
import { withSession } from '../session.ts';
import { runPool } from './pool.ts';
import { defaultConcurrency, selectFleet, type SelectOptions } from './selection.ts';
import { targetEnvironment } from './target-environment.ts';
import { fleetTitle } from './plan.ts';

export interface TargetHealth {
  target: string;
  wave: string;
  status: HealthStatus;
  report?: HealthReport;
  /** Why the target could not be measured. */
  error?: string;
}

export interface FleetHealth {
  environment: string;
  wave?: string;
  status: HealthStatus;
  targets: TargetHealth[];
}

export interface FleetHealthRequest extends Omit<RunMonitorsOptions, 'access' | 'writer'>, SelectOptions {
  processEnv: NodeJS.ProcessEnv;
  concurrency?: number;
}

export async function healthFleet(env: Environment, request: FleetHealthRequest): Promise<FleetHealth> {
  const { processEnv, concurrency, wave: _wave, shard: _shard, ...monitorOptions } = request;
  const selection = await selectFleet(env, { root: request.root, processEnv }, request);
  const items = selection.selected.flatMap((w) => w.targets.map((target) => ({ wave: w.name, target })));
  const done = await runPool(items, concurrency ?? defaultConcurrency(selection, processEnv), async ({ wave, target }): Promise<TargetHealth> => {
    const one = targetEnvironment(env, target);
    try {
      const report = await withSession(one, { root: request.root, processEnv, lock: false }, (session) =>
        runMonitors(one, { ...monitorOptions, processEnv, access: checkAccess(one, session.db), writer: () => session.writer() }),
      );
      return { target: target.name, wave, status: report.status, report };
    } catch (thrown) {
      return { target: target.name, wave, status: 'unknown', error: toError(thrown).message };
    }
  });
  const targets = done.filter((t): t is TargetHealth => t !== undefined);
  const worst: HealthStatus = targets.some((t) => t.status === 'breach') ? 'breach' : targets.some((t) => t.status === 'unknown') ? 'unknown' : 'healthy';
  return { environment: env.name, ...(request.wave !== undefined ? { wave: request.wave } : {}), status: worst, targets };
}

export const fleetHealthExitCode = (health: FleetHealth): number => HEALTH_EXIT_CODES[health.status];

/** The headline, then the full report of each target that is not healthy (a healthy one is one name in a list). */
export function renderFleetHealth(health: FleetHealth, format: 'text' | 'json' | 'markdown'): string {
  if (format === 'json') return JSON.stringify(health, null, 2);
  const by = (status: HealthStatus) => health.targets.filter((t) => t.status === status);
  const unreachable = health.targets.filter((t) => t.error);
  const headline = `${fleetTitle(health)}: ${health.status.toUpperCase()} — ${by('healthy').length} healthy, ${by('breach').length} breached, ${by('unknown').length - unreachable.length} unknown, ${unreachable.length} unreachable (of ${health.targets.length} targets)`;
  const unhealthy = health.targets.filter((t) => t.status !== 'healthy');
  if (format === 'markdown') {
    const out = [`### Health of fleet \`${fleetTitle(health)}\`: ${health.status}`, '', headline];
    for (const t of unhealthy) out.push('', `#### \`${t.target}\` (wave ${t.wave}): ${t.status}`, '', t.report ? renderHealthReport(t.report, 'markdown').replace(/^### .*\n/, '') : t.error ?? '');
    return `${out.join('\n')}\n`;
  }
  const out = [headline];
  for (const t of unhealthy) {
    out.push('', `${t.wave}/${t.target}: ${t.status}`);
    out.push(...(t.report ? renderHealthReport(t.report, 'text') : (t.error ?? '')).trimEnd().split('\n').map((line) => `  ${line}`));
  }
  if (by('healthy').length) out.push('', `healthy: ${by('healthy').map((t) => t.target).join(', ')}`);
  return `${out.join('\n')}\n`;
}
