import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UsageError, UserError, toError } from '../../engine/errors.ts';
import { parseDuration } from '../../engine/config/duration.ts';

export function parsePositiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`Invalid number '${text}'. Expected a whole number of 1 or more.`);
  return value;
}

/** "10s", "500ms", "2m": a duration in milliseconds. */
export function parseDurationOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`Invalid duration '${text}'. Expected a number with a unit: 500ms, 10s, 2m, 1h.`);
  return ms;
}

/** The pull request of this run: ROLLOUT_PR, or the number in GitHub's refs/pull/N/merge. */
export function pullRequestNumber(env: NodeJS.ProcessEnv): number | null {
  const explicit = env.ROLLOUT_PR ? Number(env.ROLLOUT_PR) : NaN;
  if (Number.isInteger(explicit) && explicit > 0) return explicit;
  const match = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '');
  return match ? Number(match[1]) : null;
}

/** Refuse an output file whose folder does not exist, before any work is done (issue 13, defect 6). */
export function checkOutputPath(option: string, path: string): void {
  const folder = dirname(path);
  if (!existsSync(folder)) throw new UsageError(`${option} ${path}: the folder ${folder} does not exist. Create it first (mkdir -p ${folder}) or write the file somewhere else.`);
  if (!statSync(folder).isDirectory()) throw new UsageError(`${option} ${path}: ${folder} is a file, not a folder. Choose a path inside a folder.`);
}

/** Write an output file the user asked for; a failure (permissions, a folder of that name) is theirs to fix, not a crash. */
export function writeOutputFile(option: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (thrown) {
    throw new UserError(`${option} ${path}: could not write the file (${toError(thrown).message}). Choose a path you can write to.`, { cause: thrown });
  }
}
