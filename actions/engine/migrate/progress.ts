/**
 * Progress of a long apply: "[n/N] file … elapsed" on a terminal, ::group:: blocks in
 * GitHub Actions (one collapsible group per file), one line per file elsewhere.
 *
 * Off a terminal, lines are written in batches at most every 100 ms: a history of 1,000
 * files is 1,000 lines, and one write(2) per line to a pipe cost ~35 ms of such a run. A
 * failure is written at once, and a batch is never held longer than 100 ms (a timer writes
 * it), so a log that stops still shows the last file that finished. Call flush() when done.
 */
import { formatDuration } from '../config/duration.ts';
import type { ProgressEvent } from './execute.ts';

export interface ProgressOutput {
  out: (line: string) => void;
  isTTY: boolean;
  githubActions: boolean;
  /** Injected for tests; defaults to performance.now. */
  now?: () => number;
  /** How long a line may wait off a terminal; 0 writes every line at once. */
  batchMs?: number;
}

export type ProgressReporter = ((event: ProgressEvent) => void) & {
  /** Write whatever is waiting. */
  flush(): void;
};

export function progressReporter(output: ProgressOutput): ProgressReporter {
  const now = output.now ?? (() => performance.now());
  const started = now();
  const elapsed = (): string => formatDuration(now() - started);
  const batchMs = output.isTTY ? 0 : (output.batchMs ?? 100);
  let waiting: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    output.out(waiting.join('\n'));
    waiting = [];
  };
  const write = (line: string, urgent = false): void => {
    if (batchMs === 0) return output.out(line);
    waiting.push(line);
    if (urgent) flush();
    else timer ??= setTimeout(flush, batchMs);
  };
  const report = (event: ProgressEvent): void => {
    const tag = `[${event.index}/${event.total}]`;
    const path = event.migration.file.path;
    if (event.kind === 'start') {
      if (output.githubActions) write(`::group::${tag} ${path}`);
      else if (output.isTTY) write(`${tag} ${path} … (elapsed ${elapsed()})`);
      return;
    }
    if (event.kind === 'done') {
      write(`${tag} applied ${path} in ${formatDuration(event.durationMs)} (elapsed ${elapsed()})`);
      if (output.githubActions) write('::endgroup::');
      return;
    }
    write(`${tag} FAILED ${path} (elapsed ${elapsed()})`, !output.githubActions);
    if (output.githubActions) write('::endgroup::', true);
  };
  return Object.assign(report, { flush });
}
