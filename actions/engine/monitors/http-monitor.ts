/**
 * An HTTP monitor: the request and judgement of an http check (checks/kinds.ts: variables,
 * headers, expected status, contract, latency budget), taken on the health schedule and
 * recorded like any measurement — seed 001's daily `curl $SUPABASE_URL/functions/v1/health`.
 * A check runs after an apply; a monitor runs whenever `rollout health` does.
 *
 * Verdicts: the check passes → healthy; it fails (wrong status, a body that breaks its
 * contract, over budget) → breach; the endpoint does not answer at all (refused, timed out)
 * → breach too, since a health endpoint that is down is the worst answer, not a missing one;
 * the request cannot be made (an unset variable, a missing contract) → unknown: nothing was
 * measured. The measurement's value is the HTTP status (none without an answer).
 */
import type { ContractRegistry } from '../config/contracts.ts';
import type { CheckSpec, MonitorSpec } from '../config/model.ts';
import { toError } from '../errors.ts';
import { probeHttp, type KindContext } from '../checks/kinds.ts';
import type { MonitorResult } from './run-monitors.ts';

export interface HttpMonitorContext {
  processEnv: NodeJS.ProcessEnv;
  contracts: ContractRegistry;
  timeoutMs: number;
}

export async function measureHttp(spec: MonitorSpec, ctx: HttpMonitorContext): Promise<MonitorResult> {
  const base = { name: spec.name, kind: 'http', severity: spec.severity === 'critical' ? 'critical' : 'warning' } as const;
  // The http check as written in a check: the same fields, so one implementation judges both.
  const check: CheckSpec = { name: spec.name, http: spec.http ?? null, ...(spec.latency_budget !== undefined ? { latency_budget: spec.latency_budget } : {}) };
  const kind: KindContext = {
    connection: () => Promise.reject(new Error('an HTTP monitor sends no query')),
    timeoutMs: ctx.timeoutMs,
    processEnv: ctx.processEnv,
    contracts: ctx.contracts,
    // A monitor's body is judged by its contract; reports_flags (which needs the live flags) is a check's.
    flags: new Map(),
    maxViolations: 0,
  };
  const started = performance.now();
  try {
    const found = await probeHttp(check, kind);
    const durationMs = performance.now() - started;
    const value = found.httpStatus !== undefined ? { value: found.httpStatus } : {};
    const where = found.url ? `${found.url}: ` : '';
    if (found.status === 'pass') return { ...base, status: 'healthy', detail: `${where}${found.detail}`, ...value, durationMs };
    const detail = found.status === 'error' ? `${where}no answer (${found.detail})` : `${where}${found.detail}`;
    return { ...base, status: 'breach', detail, ...value, durationMs };
  } catch (thrown) {
    return { ...base, status: 'unknown', detail: `measurement failed, so health is unknown: ${toError(thrown).message}`, durationMs: performance.now() - started };
  }
}
