/**
 * The arithmetic of monitors, pure: thresholds over measurements, and multi-window
 * burn rates (Google SRE workbook, "alerting on SLOs"). Missing data is never healthy.
 *
 *   error rate  = (total - good) / total
 *   burn rate   = error rate / (1 - slo)        (1.0 spends the error budget exactly on time)
 *   a pair (long, short, factor) breaches when BOTH windows burn faster than factor:
 *   the long window proves it is significant, the short one that it is still happening.
 */
export type HealthStatus = 'healthy' | 'breach' | 'unknown';

export interface ThresholdVerdict {
  status: HealthStatus;
  /** The measurement that decided: the worst one (highest for above, lowest for below). */
  value?: number;
  detail: string;
}

export function evaluateThreshold(values: readonly (number | undefined)[], rule: { above?: number; below?: number }): ThresholdVerdict {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (rule.above === undefined && rule.below === undefined) return { status: 'unknown', detail: 'no threshold: add above: or below:' };
  if (known.length === 0) return { status: 'unknown', detail: values.length === 0 ? 'no data: the query returned no rows' : 'no data: every measurement is null' };
  const max = Math.max(...known);
  const min = Math.min(...known);
  if (rule.above !== undefined && max > rule.above) return { status: 'breach', value: max, detail: `${fmt(max)} is above ${fmt(rule.above)}` };
  if (rule.below !== undefined && min < rule.below) return { status: 'breach', value: min, detail: `${fmt(min)} is below ${fmt(rule.below)}` };
  const value = rule.above !== undefined ? max : min;
  const bounds = [rule.above !== undefined ? `≤ ${fmt(rule.above)}` : '', rule.below !== undefined ? `≥ ${fmt(rule.below)}` : ''].filter(Boolean).join(' and ');
  return { status: 'healthy', value, detail: `${fmt(value)}${known.length > 1 ? ` (worst of ${known.length})` : ''} is ${bounds}` };
}

/** Burn rate of one window; undefined when there is no traffic to judge (total 0 or missing). */
export function burnRate(good: number | undefined, total: number | undefined, slo: number): number | undefined {
  if (good === undefined || total === undefined || !Number.isFinite(good) || !Number.isFinite(total) || total <= 0) return undefined;
  const errorRate = Math.min(1, Math.max(0, (total - good) / total));
  return errorRate / (1 - slo);
}

export interface WindowPair {
  long: string;
  short: string;
  factor: number;
  longBurn?: number;
  shortBurn?: number;
}

export interface PairVerdict extends WindowPair {
  status: HealthStatus;
}

export function evaluateBurnPairs(pairs: readonly WindowPair[]): { status: HealthStatus; pairs: PairVerdict[]; detail: string } {
  const verdicts = pairs.map((p): PairVerdict => {
    if (p.longBurn === undefined || p.shortBurn === undefined) {
      // One window over factor and the other unknown is still not a proven breach.
      return { ...p, status: 'unknown' };
    }
    return { ...p, status: p.longBurn > p.factor && p.shortBurn > p.factor ? 'breach' : 'healthy' };
  });
  const describe = (p: PairVerdict): string => `${fmtBurn(p.longBurn)} over ${p.long} and ${fmtBurn(p.shortBurn)} over ${p.short} (factor ${fmt(p.factor)})`;
  const breach = verdicts.find((p) => p.status === 'breach');
  if (breach) return { status: 'breach', pairs: verdicts, detail: `burning ${describe(breach)}` };
  const unknown = verdicts.find((p) => p.status === 'unknown');
  if (unknown) return { status: 'unknown', pairs: verdicts, detail: `no traffic to judge: ${describe(unknown)}` };
  return { status: 'healthy', pairs: verdicts, detail: verdicts.map(describe).join('; ') };
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(3))));
const fmtBurn = (n: number | undefined): string => (n === undefined ? 'unknown' : `${fmt(n)}×`);
