/**
 * What `validate` tells from one file about its checks and monitors, so that it is not found
 * later (issue 13, defect 5): a monitor's on_breach naming a flag that is not a kill switch
 * (found mid-incident otherwise), a when_flag naming no flag (the check would be skipped
 * forever) or on the off value of a flag that has none, an HTTP check's reports_flags naming no
 * flag (it would fail forever), a monitor with a query but no threshold (health would say "unknown" forever),
 * an HTTP monitor with a query or threshold beside it (it would be ignored).
 */
import type { PathToken } from './yaml-source.ts';
import { clip } from './schema-errors.ts';
import { suggestion } from './suggest.ts';

type Report = (path: PathToken[], message: string) => void;

export function checkReferences(raw: Record<string, unknown>, flags: Record<string, unknown>, file: string, report: Report): void {
  const keys = Object.keys(flags);
  const switches = keys.filter((key) => isRecord(flags[key]) && flags[key].kill_switch === true);
  const listed = switches.length ? `Kill switches in ${file}: ${switches.join(', ')}.` : `${file} marks no flag kill_switch: true.`;
  const monitors = Array.isArray(raw.monitors) ? raw.monitors : [];
  monitors.forEach((monitor, index) => {
    if (!isRecord(monitor)) return;
    const name = typeof monitor.name === 'string' ? `monitor '${clip(monitor.name)}'` : `monitors[${index}]`;
    const target = isRecord(monitor.on_breach) ? monitor.on_breach.kill_switch : undefined;
    if (typeof target === 'string') {
      const at: PathToken[] = ['monitors', index, 'on_breach', 'kill_switch'];
      if (!Object.hasOwn(flags, target)) report(at, `${name} trips '${clip(target)}' on breach, which is not a flag of this environment${suggestion(target, switches.length ? switches : keys)} ${listed}`);
      else if (!switches.includes(target)) {
        report(at, `${name} trips '${clip(target)}' on breach, but that flag is not a kill switch, so break-glass would refuse it during the breach. Mark it kill_switch: true, or name a kill switch. ${listed}`);
      }
    }
    // An HTTP monitor is judged by its answer: a query or a threshold beside it would be ignored.
    if (isRecord(monitor.http)) {
      const ignored = ['sql', 'burn_rate', 'above', 'below', 'baseline', 'empty'].filter((key) => monitor[key] !== undefined);
      if (ignored.length > 0) {
        report(['monitors', index, ignored[0]], `${name} measures an HTTP endpoint (http:), which is judged by its answer (status, contract, latency_budget), so ${ignored.join(', ')} would be ignored: make a second monitor for the query.`);
      }
      return;
    }
    // A baseline is a threshold too (relative to the measurement before a move), and replaces above/below.
    if (typeof monitor.sql === 'string' && monitor.above === undefined && monitor.below === undefined && monitor.burn_rate === undefined && monitor.baseline === undefined) {
      report(['monitors', index], `${name} measures with sql but has no threshold, so it can never breach (health says "unknown"): add above: N or below: N (or baseline: { above: RATIO }).`);
    }
  });
  const checks = Array.isArray(raw.checks) ? raw.checks : [];
  checks.forEach((check: unknown, index) => {
    if (!isRecord(check)) return;
    const reports = isRecord(check.http) && isRecord(check.http.reports_flags) ? check.http.reports_flags : {};
    for (const [pointer, reported] of Object.entries(reports)) {
      if (typeof reported !== 'string' || Object.hasOwn(flags, reported)) continue;
      const name = typeof check.name === 'string' ? `check '${clip(check.name)}'` : `checks[${index}]`;
      report(['checks', index, 'http', 'reports_flags', pointer], `${name} compares ${clip(pointer)} with flag '${clip(reported)}', but there is no such flag in this environment, so the check would fail on every run${suggestion(reported, keys)}`);
    }
    const key = isRecord(check.when_flag) ? check.when_flag.key : undefined;
    if (typeof key !== 'string') return;
    const name = typeof check.name === 'string' ? `check '${clip(check.name)}'` : `checks[${index}]`;
    if (Object.hasOwn(flags, key)) {
      // A plain flag serves its value to everyone: it has no off value to serve, so `off` never holds.
      const flag = flags[key];
      if (isRecord(check.when_flag) && check.when_flag.variant === 'off' && isRecord(flag) && flag.rollout === undefined) {
        report(['checks', index, 'when_flag', 'variant'], `${name} runs only while flag '${clip(key)}' serves its off value to every unit, but that flag has no rollout:, so it serves its value to everyone and the check would be skipped on every run. Give the flag a rollout: (with off_value:), or use equals: for a kill switch's value.`);
      }
      return;
    }
    report(['checks', index, 'when_flag', 'key'], `${name} runs only when flag '${clip(key)}' is on, but there is no such flag in this environment, so it would be skipped on every run${suggestion(key, keys)}`);
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
