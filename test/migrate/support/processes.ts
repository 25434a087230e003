/** Spawn apply-runner.ts processes and collect what they print. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from '../../support/databases.ts';

const RUNNER = fileURLToPath(new URL('./apply-runner.ts', import.meta.url));

export interface RunnerProcess {
  child: ChildProcess;
  /** Lines printed so far, parsed. */
  lines: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Resolves when a printed line satisfies `predicate`. */
  waitFor(predicate: (line: Record<string, unknown>) => boolean): Promise<void>;
}

export function startRunner(db: TestDatabase): RunnerProcess {
  const input = JSON.stringify({ root: db.root, database: db.env.database, migrations: db.env.migrations, processEnv: db.processEnv });
  const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, input], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: { predicate: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.trim()) continue;
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.predicate(line))) waiter.resolve();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    lines,
    stderr,
    exited,
    waitFor: (predicate) =>
      new Promise<void>((resolve, reject) => {
        if (lines.some(predicate)) return resolve();
        waiters.push({ predicate, resolve });
        void exited.then(() => reject(new Error(`runner exited before the expected line; stderr: ${stderr.join('')}`)));
      }),
  };
}
