/**
 * The runtime port: how an action entry talks to the runner (outputs, logs, annotations,
 * the job summary). The GitHub implementation is @actions/core; everything printed goes
 * through the same masking as the CLI, so no database password reaches a log or summary.
 */
import * as core from '@actions/core';
import { secretScrubber, secretValues } from '../engine/secrets.ts';
import type { Env } from './inputs.ts';

export interface Runtime {
  setOutput(name: string, value: string | number | boolean): void;
  info(text: string): void;
  warning(text: string): void;
  /** Raw workflow commands (annotations rendered by the engine). */
  command(text: string): void;
  /** Append markdown to the job summary. */
  summary(markdown: string): Promise<void>;
  setFailed(message: string): void;
  /** Text with every secret of this run masked. */
  scrub(text: string): string;
}

export function githubRuntime(env: Env): Runtime {
  // Registered with the runner too, so that its own log masking covers them.
  for (const secret of secretValues({ ...env })) core.setSecret(secret);
  const scrub = secretScrubber({ ...env });
  return {
    setOutput: (name, value) => core.setOutput(name, typeof value === 'string' ? scrub(value) : value),
    info: (text) => core.info(scrub(text)),
    warning: (text) => core.warning(scrub(text)),
    command: (text) => {
      if (text !== '') process.stdout.write(scrub(text.endsWith('\n') ? text : `${text}\n`));
    },
    summary: async (markdown) => {
      if (!env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(scrub(markdown), true).write();
      core.summary.emptyBuffer();
    },
    setFailed: (message) => core.setFailed(scrub(message)),
    scrub,
  };
}
