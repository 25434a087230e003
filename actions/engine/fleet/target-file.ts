/**
 * A fleet's targets file (targets_from.file): a JSON list read with positions (JSON is YAML, so
 * the YAML reader gives every item its line and column), checked like the file's own list.
 * Kept apart from the database code: validate reads it too, and never loads a driver.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../config/model.ts';
import { locate, parseYamlSource } from '../config/yaml-source.ts';
import { UserError, ValidationError } from '../errors.ts';
import type { Problem } from '../problems.ts';
import { readTargetList } from './config.ts';
import type { FleetTarget } from './model.ts';

/**
 * What validate says about a targets file (targets_from.file) without running anything: its own
 * problems at their lines in the JSON, or, when it is missing, one at the environment file's key.
 */
export function targetFileProblems(root: string, env: Environment, at: { line: number; column: number }): Problem[] {
  const source = env.fleet?.source;
  if (source?.kind !== 'file') return [];
  try {
    targetsFromFile(root, source.file, env.fleet?.urlEnvTemplate, env.file);
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    return [{ file: env.file, ...at, severity: 'error', message: (error as Error).message }];
  }
}

export function targetsFromFile(root: string, file: string, template: string | undefined, envFile: string): FleetTarget[] {
  const path = join(root, file);
  if (!existsSync(path)) throw new UserError(`${envFile} reads its targets from ${file} (targets_from.file), which does not exist. Create it: a JSON list such as [{"name": "acme", "url_env": "TENANT_ACME_URL"}].`);
  // JSON is YAML: the YAML reader gives every item its line and column.
  const source = parseYamlSource(file, readFileSync(path, 'utf8'));
  const problems: Problem[] = [...source.problems];
  if (problems.length === 0 && !Array.isArray(source.data)) {
    problems.push({ file, line: 1, column: 1, severity: 'error', message: `${file} must hold a JSON list of targets, e.g. [{"name": "acme", "url_env": "TENANT_ACME_URL", "labels": {"region": "eu"}}].` });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  const targets = readTargetList(source.data as unknown[], template, (at, message, options) => problems.push({ file, ...locate(source, at, options), severity: 'error', message }));
  if (problems.length > 0) throw new ValidationError(problems);
  return targets;
}

