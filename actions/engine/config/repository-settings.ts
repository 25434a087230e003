/**
 * rollout.yaml at the repository root: settings every environment shares, today the
 * rollout ladder (canary steps, skipped stages, soaks) and segments (config/segments.ts). Optional: without the file the
 * default ladder applies. Checked against contracts/repository.schema.json with
 * positions, like the environment files, and every problem is reported at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Problem } from '../problems.ts';
import { DEFAULT_LADDER, resolveLadder, type LadderConfig, type LadderSpec } from '../stages/ladder.ts';
// Compiled ahead of time (scripts/compile-schemas.mjs): compiling the schema here cost ~45 ms of every start.
import { validateRepositorySettings } from './generated/repository-settings-validator.js';
import { humanizeSchemaErrors } from './schema-errors.ts';
import { checkSegments, readSegments, type Segment } from './segments.ts';
import { locate, parseYamlSource, type PathToken } from './yaml-source.ts';

export const REPOSITORY_SETTINGS_FILE = 'rollout.yaml';

export interface RepositorySettings {
  /** The repository's ladder; the default ladder when the file is absent or has errors. */
  ladder: LadderConfig;
  /** Segments every environment may name; an environment's own segment of the same name replaces one. */
  segments: Map<string, Segment>;
  /** Whether rollout.yaml exists. */
  present: boolean;
  problems: Problem[];
}

export function loadRepositorySettings(root: string): RepositorySettings {
  const path = join(root, REPOSITORY_SETTINGS_FILE);
  if (!existsSync(path)) return { ladder: DEFAULT_LADDER, segments: new Map(), present: false, problems: [] };
  return readRepositorySettings(readFileSync(path, 'utf8'));
}

/** Parse and check the text of rollout.yaml (pure, for tests). */
export function readRepositorySettings(text: string): RepositorySettings {
  const file = REPOSITORY_SETTINGS_FILE;
  const source = parseYamlSource(file, text);
  const problems: Problem[] = [...source.problems];
  const report = (path: PathToken[], message: string, key = false): void => {
    problems.push({ file, ...locate(source, path, { key }), severity: 'error', message });
  };
  // Segments survive a broken ladder: the environments that name them are not wrong.
  let segments = new Map<string, Segment>();
  const failed = (): RepositorySettings => ({ ladder: DEFAULT_LADDER, segments, present: true, problems });
  const data = source.data;
  if (data === undefined) return failed();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    report([], `${file} is a map with at least \`version: 1\`, e.g.\n  version: 1\n  ladder: { canary_steps: [5, 25, 50, 100], skip: [shadow] }`);
    return failed();
  }
  const validate = validateRepositorySettings;
  if (!validate(data)) {
    for (const finding of humanizeSchemaErrors(validate.errors ?? [], data)) report(finding.path, finding.message, finding.key);
    return failed();
  }
  segments = readSegments(data);
  checkSegments(data, report);
  const spec: LadderSpec = (data as { ladder?: LadderSpec }).ladder ?? {};
  const before = problems.length;
  checkLadderSpec(spec, report);
  if (problems.length > before) return failed();
  const resolved = resolveLadder(spec);
  // The schema and the checks above cover what resolveLadder refuses; anything left is still the file's, so say it.
  for (const message of resolved.problems) report(['ladder'], message);
  return resolved.problems.length > 0 ? failed() : { ladder: resolved.ladder, segments, present: true, problems };
}

/** What the schema cannot say: steps ascending with at most two decimals, per-step soaks naming a step. */
function checkLadderSpec(spec: LadderSpec, report: (path: PathToken[], message: string, key?: boolean) => void): void {
  const steps = Array.isArray(spec.canary_steps) ? (spec.canary_steps as number[]) : [...DEFAULT_LADDER.canarySteps];
  if (Array.isArray(spec.canary_steps)) {
    steps.forEach((step, i) => {
      const at = ['ladder', 'canary_steps', i];
      if (Math.abs(step * 100 - Math.round(step * 100)) > 1e-6) report(at, `canary step ${step} has more than two decimals; buckets are 0.01% wide, so write e.g. ${Math.round(step * 100) / 100}.`);
      else if (i > 0 && step <= steps[i - 1]) {
        report(at, `canary_steps must go strictly up: ${step} comes after ${steps[i - 1]}. Expected strictly ascending percents like [5, 25, 50, 100].`);
      }
    });
  }
  const perStep = spec.soak?.canary_steps;
  if (perStep && typeof perStep === 'object') {
    for (const key of Object.keys(perStep)) {
      if (!steps.includes(Number(key))) {
        report(['ladder', 'soak', 'canary_steps', key], `soak.canary_steps names canary ${key}%, which is not a canary step; the steps are ${steps.join(', ')}.`, true);
      }
    }
  }
}
