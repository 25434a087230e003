import { InvalidArgumentError } from 'commander';

export function parsePositiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`Invalid number '${text}'. Expected a whole number of 1 or more.`);
  return value;
}

/** The pull request of this run: ROLLOUT_PR, or the number in GitHub's refs/pull/N/merge. */
export function pullRequestNumber(env: NodeJS.ProcessEnv): number | null {
  const explicit = env.ROLLOUT_PR ? Number(env.ROLLOUT_PR) : NaN;
  if (Number.isInteger(explicit) && explicit > 0) return explicit;
  const match = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '');
  return match ? Number(match[1]) : null;
}
