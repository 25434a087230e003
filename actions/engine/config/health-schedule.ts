/**
 * `rollout validate`'s look at the scheduled health workflow: warn, at the cron line, when it
 * runs less often than the shortest monitor `every` (monitors/schedule.ts says why that
 * matters and what cron to use), and at the monitor, when its `every` is shorter than any
 * GitHub schedule can run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from './duration.ts';
import type { Repository } from './repository.ts';
import { locate, parseYamlSource } from './yaml-source.ts';
import type { Environment } from './model.ts';
import type { Problem } from '../problems.ts';
import { GITHUB_MIN_SCHEDULE_MS, cronFor, longestGapMs, shortestCadence } from '../monitors/schedule.ts';

const WORKFLOWS_DIR = '.github/workflows';
/** A workflow that runs health: calls the reusable workflow or the action. */
const RUNS_HEALTH = /rollout-health\.ya?ml|actions\/health\b/;

export function healthScheduleProblems(repository: Repository): { problems: Problem[]; sources: Map<string, string> } {
  const problems: Problem[] = [];
  const sources = new Map<string, string>();
  const dir = join(repository.root, WORKFLOWS_DIR);
  if (!existsSync(dir)) return { problems, sources };
  const environments = [...repository.files.values()].map((f) => f.environment).filter((e): e is Environment => e !== undefined);
  const cadence = shortestCadence(environments);
  let scheduled = false;
  for (const entry of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = `${WORKFLOWS_DIR}/${entry}`;
    const text = readFileSync(join(dir, entry), 'utf8');
    if (!RUNS_HEALTH.test(text)) continue;
    const source = parseYamlSource(file, text);
    const schedule = ((source.data as { on?: { schedule?: unknown } } | undefined)?.on?.schedule);
    if (!Array.isArray(schedule)) continue;
    const crons = schedule.map((s) => (s as { cron?: unknown }).cron).filter((c): c is string => typeof c === 'string');
    const gap = longestGapMs(crons);
    if (gap === undefined) continue;
    scheduled = true;
    const wanted = Math.max(cadence.everyMs, GITHUB_MIN_SCHEDULE_MS);
    if (gap <= wanted) continue;
    const who = cadence.monitor !== undefined ? `monitor '${cadence.monitor}' of ${cadence.environment} is measured every ${formatDuration(cadence.everyMs)}` : `monitors are measured every ${formatDuration(cadence.everyMs)} (the default)`;
    const runs = Number.isFinite(gap) ? `runs every ${formatDuration(gap)} at most` : 'runs only on some days';
    sources.set(file, text);
    problems.push({
      file,
      ...locate(source, ['on', 'schedule', 0, 'cron']),
      severity: 'warning',
      message: `this health schedule ${runs}, but ${who}: health measures every monitor once a run, so measurements would be further apart than every (exit criteria count a gap of more than twice every as unknown, and GitHub starts schedules late under load). Set cron: "${cronFor(cadence.everyMs).cron}" (the shortest every, or the closest GitHub allows).`,
    });
  }
  if (scheduled && cadence.everyMs < GITHUB_MIN_SCHEDULE_MS && cadence.environment !== undefined && cadence.index !== undefined) {
    const envFile = repository.files.get(cadence.environment);
    if (envFile) {
      problems.push({
        file: envFile.source.file,
        ...locate(envFile.source, ['monitors', cadence.index, 'every']),
        severity: 'warning',
        message: `monitor '${cadence.monitor}' is measured every ${formatDuration(cadence.everyMs)}, but GitHub runs a schedule at most every 5 minutes: set every: 5m, or run rollout health that often yourself (a loop or a cron of your own).`,
      });
    }
  }
  return { problems, sources };
}
