/**
 * Golden files: the expected text of a rendering, committed beside the tests. A test only
 * ever compares: a missing golden fails, on every machine. Writing them is a separate command,
 *   npm run golden:update
 * which reruns the golden tests with ROLLOUT_UPDATE_GOLDEN=1 and prints what changed, for a
 * reviewer to read before committing. CI never writes them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_UPDATE_COMMAND = 'npm run golden:update';
export const GOLDEN_UPDATE_VARIABLE = 'ROLLOUT_UPDATE_GOLDEN';

const ROOT = resolve(import.meta.dirname, '../..');

/** Whether this run writes goldens (the update command) instead of comparing with them. */
export function updatingGoldens(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[GOLDEN_UPDATE_VARIABLE] !== '1') return false;
  if (env.CI === 'true') throw new Error(`${GOLDEN_UPDATE_VARIABLE}=1 in CI: golden files are written only by ${GOLDEN_UPDATE_COMMAND} on a developer's machine, and reviewed.`);
  return true;
}

export function expectGolden(file: string, actual: string, env: NodeJS.ProcessEnv = process.env): void {
  const shown = relative(ROOT, file);
  if (updatingGoldens(env)) {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${shown} is missing: run ${GOLDEN_UPDATE_COMMAND}, read the diff it prints, and commit the file.`);
  expect(actual, `${shown} differs (after an intended change: ${GOLDEN_UPDATE_COMMAND}, then review the diff)`).toBe(readFileSync(file, 'utf8'));
}
