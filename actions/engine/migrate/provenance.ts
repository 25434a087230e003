/** Who applied a migration and from which commit, for the history row. */
import { execFile } from 'node:child_process';
import { hostname, userInfo } from 'node:os';

export function currentCommit(root: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (env.GITHUB_SHA) return Promise.resolve(env.GITHUB_SHA);
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', 'HEAD'], { cwd: root }, (error, stdout) => resolve(error ? null : stdout.trim() || null));
  });
}

export function currentActor(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_ACTOR) return `${env.GITHUB_ACTOR} (GitHub Actions run ${env.GITHUB_RUN_ID ?? '?'})`;
  let user = env.USER ?? env.USERNAME;
  try {
    user ??= userInfo().username;
  } catch {
    user ??= 'unknown';
  }
  return `${user}@${hostname()}`;
}
