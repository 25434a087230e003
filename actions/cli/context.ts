/** What every CLI command gets: where the repository is, where to print, and how to load it. */
import { resolve } from 'node:path';
import { loadEnvironment, type Repository } from '../engine/config/repository.ts';
import { timedSync } from '../engine/timings.ts';
import type { Environment } from '../engine/config/model.ts';
import { secretScrubber } from '../engine/secrets.ts';

export interface CliContext {
  /** Absolute path of the repository (--root, default the current directory). */
  readonly root: string;
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  loadEnvironment(name: string): Promise<Environment>;
  /** The repository the last loadEnvironment read (every environment file, parsed once). */
  readonly repository?: Repository;
  /** The exit code the process ends with (the highest one set wins). */
  setExitCode(code: number): void;
}

export interface Streams {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
}

export function createContext(getRoot: () => string | undefined, streams: Streams, env: NodeJS.ProcessEnv): CliContext & { exitCode: number } {
  // Everything the CLI prints passes through here: no password reaches a terminal or a CI log.
  const scrub = secretScrubber(env);
  const withNewline = (text: string): string => scrub(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  const ctx: CliContext & { exitCode: number; repository?: Repository } = {
    exitCode: 0,
    get root() {
      return resolve(getRoot() ?? env.ROLLOUT_ROOT ?? process.cwd());
    },
    out: (text: string) => void streams.stdout.write(withNewline(text)),
    err: (text: string) => void streams.stderr.write(withNewline(text)),
    isTTY: Boolean(streams.stdout.isTTY) && env.NO_COLOR === undefined && env.CI !== 'true',
    env,
    async loadEnvironment(name: string) {
      // NAME/TARGET: one target of a fleet, as a single-database environment (verify, kill, migrate …).
      const [environment, target] = name.split('/', 2);
      const loaded = timedSync('load environment', () => loadEnvironment(ctx.root, environment));
      ctx.repository = loaded.repository;
      if (target === undefined) return loaded.environment;
      const { fleetTarget } = await import('../engine/fleet/selection.ts');
      return fleetTarget(loaded.environment, target, { root: ctx.root, processEnv: env });
    },
    setExitCode(code: number) {
      ctx.exitCode = Math.max(ctx.exitCode, code);
    },
  };
  return ctx;
}
