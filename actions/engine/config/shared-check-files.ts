/**
 * Shared check files: `use: NAME` in an environment's checks includes checks/NAME.yaml, a
 * YAML list of checks (or {checks: [...]}) validated against the same schema as inline
 * checks. This module reads one such file and, for `rollout validate`, follows every `use`
 * of the environments being validated, so that a broken shared file is reported on the
 * pull request with its own file, line and column, not first when the checks run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Problem } from '../problems.ts';
import type { CheckSpec } from './model.ts';
import { validateCheck } from './generated/environment-validator.js';
import { humanizeSchemaErrors } from './schema-errors.ts';
import { locate, parseYamlSource, type PathToken, type YamlSource } from './yaml-source.ts';

export const SHARED_CHECKS_DIR = 'checks';
/** How deep `use` may nest (a shared file using another, …). */
export const MAX_USE_DEPTH = 5;

export type SharedFile = { ok: true; checks: CheckSpec[]; source: YamlSource } | { ok: false; missing: boolean; problems: Problem[] };

export const sharedFileOf = (name: string): string => `${SHARED_CHECKS_DIR}/${name}.yaml`;

export function loadSharedFile(root: string, file: string): SharedFile {
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    return { ok: false, missing: true, problems: [] };
  }
  const source = parseYamlSource(file, text);
  const broken = source.problems.filter((p) => p.severity === 'error');
  if (broken.length > 0 || source.data === undefined) return { ok: false, missing: false, problems: broken.length > 0 ? broken : [at(file, 1, 1, 'not YAML')] };
  const data = source.data;
  const list = Array.isArray(data) ? data : isRecord(data) && Array.isArray(data.checks) ? (data.checks as unknown[]) : undefined;
  if (!list) return { ok: false, missing: false, problems: [at(file, 1, 1, `${file} must be a YAML list of checks (or a map with checks: [...]).`)] };
  const base: PathToken[] = Array.isArray(data) ? [] : ['checks'];
  const problems: Problem[] = [];
  list.forEach((item, index) => {
    if (validateCheck(item)) return;
    for (const finding of humanizeSchemaErrors(validateCheck.errors ?? [], item, { basePath: [...base, index] })) {
      problems.push({ file, ...locate(source, finding.path, { key: finding.key }), severity: finding.severity, message: finding.message });
    }
  });
  if (problems.length > 0) return { ok: false, missing: false, problems };
  return { ok: true, checks: list as CheckSpec[], source };
}

export const missingSharedFile = (file: string): string => `shared check file ${file} not found. Create it (a YAML list of checks), or fix the name after use:.`;
export const sharedFileCycle = (file: string, chain: readonly string[]): string => `${file} includes itself (${chain.join(' → ')}); remove the cycle.`;

/**
 * Every problem in the shared check files the given environment files reach through `use`:
 * a missing file or a cycle at the `use` that names it, a broken file at its own lines —
 * each once, however many environments (or shared files) lead to it.
 */
export function sharedCheckProblems(root: string, environments: readonly YamlSource[]): Problem[] {
  const cache = new Map<string, SharedFile>();
  const problems = new Map<string, Problem>();
  const report = (problem: Problem): void => void problems.set(`${problem.file}:${problem.line}:${problem.column}:${problem.message}`, problem);
  const visit = (list: unknown, from: YamlSource, base: PathToken[], chain: string[]): void => {
    if (!Array.isArray(list)) return;
    list.forEach((spec, index) => {
      if (!isRecord(spec) || typeof spec.use !== 'string') return;
      const file = sharedFileOf(spec.use);
      // Located only for a problem: locating builds the file's positioned document, which a clean file never needs.
      const here = () => ({ file: from.file, ...locate(from, [...base, index, 'use']), severity: 'error' as const });
      if (chain.includes(spec.use) || chain.length >= MAX_USE_DEPTH) {
        report({ ...here(), message: sharedFileCycle(file, [...chain, spec.use]) });
        return;
      }
      const shared = cache.get(file) ?? loadSharedFile(root, file);
      cache.set(file, shared);
      if (!shared.ok) {
        if (shared.missing) report({ ...here(), message: missingSharedFile(file) });
        else shared.problems.forEach(report);
        return;
      }
      visit(shared.checks, shared.source, Array.isArray(shared.source.data) ? [] : ['checks'], [...chain, spec.use]);
    });
  };
  for (const source of environments) visit((source.data as { checks?: unknown } | undefined)?.checks, source, ['checks'], []);
  return [...problems.values()];
}

const at = (file: string, line: number, column: number, message: string): Problem => ({ file, line, column, severity: 'error', message });
const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
