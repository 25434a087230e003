/**
 * `use: NAME` in an environment's checks includes the shared list checks/NAME.yaml, so
 * that staging and production run the same smoke checks. A shared file is a YAML list
 * of checks (or {checks: [...]}), validated against the same schema as inline checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import environmentSchema from '../../../contracts/environment.schema.json' with { type: 'json' };
import { toolAjv } from '../config/ajv.ts';
import type { CheckSpec, Environment } from '../config/model.ts';
import { humanizeSchemaErrors } from '../config/schema-errors.ts';
import { locate, parseYamlSource } from '../config/yaml-source.ts';
import type { ResolvedCheck } from './types.ts';

export const SHARED_CHECKS_DIR = 'checks';
const MAX_DEPTH = 5;

let validateCheck: ValidateFunction | undefined;
function checkValidator(): ValidateFunction {
  if (!validateCheck) {
    const ajv = toolAjv();
    if (!ajv.getSchema(environmentSchema.$id)) ajv.addSchema(environmentSchema);
    validateCheck = ajv.getSchema(`${environmentSchema.$id}#/$defs/check`);
    if (!validateCheck) throw new Error('environment.schema.json has no $defs/check');
  }
  return validateCheck;
}

/** Expand every `use` entry (recursively, refusing cycles); a broken shared file becomes one check with a problem. */
export function resolveChecks(root: string, env: Environment): ResolvedCheck[] {
  return expand(root, env.checks, env.file, [], [], 0);
}

function expand(root: string, checks: readonly CheckSpec[], source: string, conditions: ResolvedCheck['conditions'], chain: string[], depth: number): ResolvedCheck[] {
  const out: ResolvedCheck[] = [];
  for (const spec of checks) {
    const own = [...conditions, ...whenFlagOf(spec)];
    if (typeof spec.use !== 'string') {
      out.push({ name: spec.name, spec, source, conditions: own });
      continue;
    }
    const file = `${SHARED_CHECKS_DIR}/${spec.use}.yaml`;
    const fail = (problem: string): void => void out.push({ name: spec.name, spec, source, conditions: own, problem });
    if (chain.includes(spec.use) || depth >= MAX_DEPTH) {
      fail(`${file} includes itself (${[...chain, spec.use].join(' → ')}); remove the cycle.`);
      continue;
    }
    const loaded = loadSharedFile(root, file);
    if ('problem' in loaded) {
      fail(loaded.problem);
      continue;
    }
    const included = expand(root, loaded.checks, file, own, [...chain, spec.use], depth + 1);
    out.push(...included.map((c) => ({ ...c, name: `${spec.name} / ${c.name}` })));
  }
  return out;
}

function whenFlagOf(spec: CheckSpec): ResolvedCheck['conditions'] {
  const when = spec.when_flag;
  if (typeof when !== 'object' || when === null || Array.isArray(when) || typeof when.key !== 'string') return [];
  return [{ key: when.key, ...('equals' in when ? { equals: when.equals } : {}) }];
}

export function loadSharedFile(root: string, file: string): { checks: CheckSpec[] } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    return { problem: `shared check file ${file} not found. Create it (a YAML list of checks), or fix the name after use:.` };
  }
  const source = parseYamlSource(file, text);
  const fatal = source.problems.find((p) => p.severity === 'error');
  if (fatal || source.data === undefined) {
    const p = fatal ?? { line: 1, column: 1, message: 'not YAML' };
    return { problem: `${file}:${p.line}:${p.column}: ${p.message}` };
  }
  const data = source.data;
  const list = Array.isArray(data) ? data : typeof data === 'object' && data !== null && Array.isArray((data as { checks?: unknown }).checks) ? (data as { checks: unknown[] }).checks : undefined;
  if (!list) return { problem: `${file} must be a YAML list of checks (or a map with checks: [...]).` };
  const base = Array.isArray(data) ? [] : ['checks'];
  const validate = checkValidator();
  const problems: string[] = [];
  list.forEach((item, index) => {
    if (validate(item)) return;
    for (const finding of humanizeSchemaErrors(validate.errors ?? [], item, { basePath: [...base, index] })) {
      const at = locate(source, finding.path, { key: finding.key });
      problems.push(`${file}:${at.line}:${at.column}: ${finding.message}`);
    }
  });
  if (problems.length > 0) return { problem: problems.join('; ') };
  return { checks: list as CheckSpec[] };
}
