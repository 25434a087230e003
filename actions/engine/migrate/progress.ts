/**
 * Progress of a long apply: "[n/N] file … elapsed" on a terminal, ::group:: blocks in
 * GitHub Actions (one collapsible group per file), one line per file elsewhere.
 */
import { formatDuration } from '../config/duration.ts';
import type { ProgressEvent } from './execute.ts';

export interface ProgressOutput {
  out: (line: string) => void;
  isTTY: boolean;
  githubActions: boolean;
  /** Injected for tests; defaults to performance.now. */
  now?: () => number;
}

export function progressReporter(output: ProgressOutput): (event: ProgressEvent) => void {
  const now = output.now ?? (() => performance.now());
  const started = now();
  const elapsed = (): string => formatDuration(now() - started);
  return (event) => {
    const tag = `[${event.index}/${event.total}]`;
    const path = event.migration.file.path;
    if (event.kind === 'start') {
      if (output.githubActions) output.out(`::group::${tag} ${path}`);
      else if (output.isTTY) output.out(`${tag} ${path} … (elapsed ${elapsed()})`);
      return;
    }
    if (event.kind === 'done') {
      const line = `${tag} applied ${path} in ${formatDuration(event.durationMs)} (elapsed ${elapsed()})`;
      output.out(line);
      if (output.githubActions) output.out('::endgroup::');
      return;
    }
    output.out(`${tag} FAILED ${path} (elapsed ${elapsed()})`);
    if (output.githubActions) output.out('::endgroup::');
  };
}
