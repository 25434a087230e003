/**
 * Writing an export file: `rollout export --out`, and the environment's `export:` setting,
 * which apply and kill honour after they change live state. The file is replaced atomically
 * (written beside it, then renamed), so a flagd watching it never reads half a file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type pg from 'pg';
import type { Environment } from '../config/model.ts';
import { readOnly } from '../session.ts';
import { renderExport } from './export.ts';
import { readLiveDefinitions } from './live-definitions.ts';

/** Written (how many flags), or not written and why: the previous file, if any, stays. */
export type ExportWrite = { file: string; flags: number; failure?: undefined } | { file: string; failure: string };

export async function replaceFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

/**
 * Write the environment's `export:` file from the live definitions, if it has one. A flag that
 * cannot be expressed leaves the old file in place and comes back as problems (the apply
 * itself stands: it committed before).
 */
export async function writeConfiguredExport(client: pg.ClientBase, env: Environment, root: string): Promise<ExportWrite | null> {
  if (!env.export) return null;
  const { file, format } = env.export;
  const live = await readOnly(client, () => readLiveDefinitions(client, env.name));
  const rendered = renderExport(format, env.name, live.definitions, live.problems);
  if (rendered.problems.length > 0) {
    return { file, failure: `${rendered.problems.map((p) => `flag ${p.key}: ${p.problem}`).join('; ')}. Fix the flag(s) in ${env.file} and apply again` };
  }
  try {
    await replaceFile(resolve(root, file), rendered.text);
  } catch (error) {
    // The change it follows has committed: say the file is stale, do not undo or hide the change.
    return { file, failure: `${(error as NodeJS.ErrnoException).code ?? 'error'}: ${(error as Error).message}` };
  }
  return { file, flags: rendered.flags };
}

/** One line for the CLI and the job summary. */
export function describeExport(written: ExportWrite, env: Pick<Environment, 'name'>): string {
  return written.failure !== undefined
    ? `${env.name}: export ${written.file} NOT written (the previous file, if any, stays): ${written.failure}.`
    : `${env.name}: wrote ${written.flags} flag(s) as flagd definitions to ${written.file} (export:)`;
}
