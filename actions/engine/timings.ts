/**
 * Phase timings for benchmarks and performance work: with ROLLOUT_TIMINGS=1 in the
 * environment, each timed phase adds its wall-clock milliseconds to a total, and one line
 * `rollout timings: {"phase": ms, ...}` goes to stderr when the process exits. Off (the
 * default) it costs one property read per phase and prints nothing, so it can stay in the
 * code that the benchmark measures (bench/plan/run.mjs reads the flag transaction from it).
 */
const enabled = process.env.ROLLOUT_TIMINGS === '1';
const totals = new Map<string, number>();

if (enabled) {
  process.on('exit', () => {
    recordTiming('process', sinceStart());
    const rounded = Object.fromEntries([...totals].map(([phase, ms]) => [phase, Math.round(ms * 100) / 100]));
    process.stderr.write(`rollout timings: ${JSON.stringify(rounded)}\n`);
  });
}

/** Add `ms` to `phase`'s total (a phase measured by its caller, e.g. from BEGIN to COMMIT). */
export function recordTiming(phase: string, ms: number): void {
  if (enabled) totals.set(phase, (totals.get(phase) ?? 0) + ms);
}

/** Run `fn` and, when timings are on, add its duration to `phase`'s total (rejections too). */
export async function timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const started = performance.now();
  try {
    return await fn();
  } finally {
    recordTiming(phase, performance.now() - started);
  }
}

/** A synchronous `timed`. */
export function timedSync<T>(phase: string, fn: () => T): T {
  if (!enabled) return fn();
  const started = performance.now();
  try {
    return fn();
  } finally {
    recordTiming(phase, performance.now() - started);
  }
}

/** Milliseconds since the process started (node's own start-up included). */
export function sinceStart(): number {
  return performance.now();
}
