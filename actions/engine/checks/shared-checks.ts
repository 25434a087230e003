/**
 * `use: NAME` in an environment's checks includes the shared list checks/NAME.yaml, so
 * that staging and production run the same smoke checks. Reading and validating the file
 * is config's (config/shared-check-files.ts, which `rollout validate` also runs); here the
 * entries are expanded into the checks that run, named `<entry> / <check>`.
 */
import type { CheckSpec, Environment } from '../config/model.ts';
import { MAX_USE_DEPTH, loadSharedFile, missingSharedFile, sharedFileCycle, sharedFileOf } from '../config/shared-check-files.ts';
import type { FlagCondition } from './flag-condition.ts';
import type { ResolvedCheck } from './types.ts';

export { SHARED_CHECKS_DIR } from '../config/shared-check-files.ts';

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
    const file = sharedFileOf(spec.use);
    const fail = (problem: string): void => void out.push({ name: spec.name, spec, source, conditions: own, problem });
    if (chain.includes(spec.use) || depth >= MAX_USE_DEPTH) {
      fail(sharedFileCycle(file, [...chain, spec.use]));
      continue;
    }
    const loaded = loadSharedFile(root, file);
    if (!loaded.ok) {
      fail(loaded.missing ? missingSharedFile(file) : loaded.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('; '));
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
  const wanted = when.variant;
  const variant: Pick<FlagCondition, 'variant'> = wanted === 'on' || wanted === 'off' ? { variant: wanted } : {};
  return [{ key: when.key, ...('equals' in when ? { equals: when.equals } : {}), ...variant }];
}
