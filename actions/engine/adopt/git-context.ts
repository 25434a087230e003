/** What git says about the folder init runs in: where the repository's top is, and its branch. */
import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';

function git(cwd: string, args: string[]): string | undefined {
  const run = spawnSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return run.status === 0 ? run.stdout.trim() || undefined : undefined;
}

/**
 * Workflows live at the top of the Git repository; when rollout's files are in a subfolder,
 * the workflows say so with `root:`. Outside a Git repository the folder itself is the top.
 */
export function workflowPlacement(root: string): { dir: string; root: string } {
  const top = git(root, ['rev-parse', '--show-toplevel']);
  if (!top) return { dir: '.', root: '.' };
  const sub = relative(top, root).split('\\').join('/');
  return sub === '' ? { dir: '.', root: '.' } : { dir: relative(root, top).split('\\').join('/'), root: sub };
}

/** The branch checked out (the one merges will land on), or main. */
export function currentBranch(root: string): string {
  return git(root, ['symbolic-ref', '--short', 'HEAD']) ?? 'main';
}
