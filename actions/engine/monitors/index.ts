/** Scheduled health: monitors with thresholds and burn rates, and their breach actions. */
export { burnRate, evaluateBurnPairs, evaluateThreshold, type HealthStatus, type PairVerdict, type WindowPair } from './evaluate.ts';
export { runMonitors, HEALTH_EXIT_CODES, DEFAULT_MONITOR_TIMEOUT_MS, type BreachAction, type HealthReport, type MonitorResult, type RunMonitorsOptions } from './run-monitors.ts';
export { renderHealthReport } from './render.ts';
