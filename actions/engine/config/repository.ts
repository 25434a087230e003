/**
 * A repository laid out for rollout: environments/*.yaml, contracts/, migrations/.
 * Loads every environment, then checks what only the set of files can tell:
 * promotion targets exist, promotion has no cycles, downstream flags exist upstream, the
 * shared check files that checks `use` exist and are valid.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, ValidationError } from '../errors.ts';
import { hasErrors, sortProblems, type Problem } from '../problems.ts';
import { ContractRegistry } from './contracts.ts';
import { ENVIRONMENTS_DIR, readEnvironmentFile, type EnvironmentFile } from './environment-file.ts';
import type { Environment } from './model.ts';
import type { LadderConfig } from '../stages/ladder.ts';
import { targetFileProblems } from '../fleet/target-file.ts';
import { loadRepositorySettings } from './repository-settings.ts';
import { clip } from './schema-errors.ts';
import { sharedCheckProblems } from './shared-check-files.ts';
import { checkStages } from './stage-checks.ts';
import { suggestion } from './suggest.ts';
import { locate } from './yaml-source.ts';

/** The largest environment file rollout reads (docs/environments.md). */
export const MAX_ENVIRONMENT_FILE_BYTES = 8 * 2 ** 20;

export interface Repository {
  root: string;
  files: Map<string, EnvironmentFile>;
  contracts: ContractRegistry;
  /** The ladder of rollout.yaml (the default one without it), read once with the files. */
  ladder: LadderConfig;
  /** Every problem, sorted by file and position. */
  problems: Problem[];
}

export interface LoadOptions {
  /** Only report on these environments (all are still read, for cross-references). */
  only?: readonly string[];
  now?: Date;
}

export function environmentNames(root: string): string[] {
  const dir = join(root, ENVIRONMENTS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}

export function loadRepository(root: string, options: LoadOptions = {}): Repository {
  const now = options.now ?? new Date();
  const contracts = new ContractRegistry(root);
  const files = new Map<string, EnvironmentFile>();
  const problems: Problem[] = [];
  // Not a problem in a file: there is no file to point at (newcomer mistake 47).
  if (!isDirectory(root)) throw new UsageError(`the repository folder ${root} does not exist (or is not a folder). Pass --root DIR with the folder that holds environments/, or run rollout inside it.`);
  const dir = join(root, ENVIRONMENTS_DIR);
  const entries = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  if (entries.length === 0) {
    problems.push({
      file: `${ENVIRONMENTS_DIR}/`,
      line: 1,
      column: 1,
      severity: 'error',
      message: `no environments found: create ${ENVIRONMENTS_DIR}/<name>.yaml (see the README for an example), or pass --root DIR to point at your repository.`,
    });
  }
  const names = entries.map((f) => f.replace(/\.ya?ml$/, ''));
  for (const name of options.only ?? []) {
    if (!names.includes(name)) throw new UsageError(`unknown environment '${name}'${suggestion(name, names)} Environments: ${names.join(', ') || '(none)'}.`);
  }
  const settings = loadRepositorySettings(root);
  for (const entry of entries) {
    const file = `${ENVIRONMENTS_DIR}/${entry}`;
    const size = statSync(join(root, file)).size;
    if (size > MAX_ENVIRONMENT_FILE_BYTES) {
      // Parsed, a 60 MB file took 2.1 GB of memory: refuse it before reading it (issue 13, defect 7).
      problems.push({
        file,
        line: 1,
        column: 1,
        severity: 'error',
        message: `${file} is ${(size / 2 ** 20).toFixed(1)} MiB; rollout reads environment files of up to ${MAX_ENVIRONMENT_FILE_BYTES / 2 ** 20} MiB (50,000 flags take about 5 MiB). Move large values out of the file (a flag value is a small JSON document), or split the environment.`,
      });
      continue;
    }
    const loaded = readEnvironmentFile(file, readFileSync(join(root, file), 'utf8'), contracts, now, { segments: settings.segments });
    if (files.has(loaded.name)) {
      problems.push({ file, line: 1, column: 1, severity: 'error', message: `environment '${loaded.name}' is defined twice (.yaml and .yml); keep one file.` });
      continue;
    }
    files.set(loaded.name, loaded);
  }
  const crossProblems = [...checkAcrossFiles(root, files), ...checkStages(files, settings.ladder)];
  const selected = new Set(options.only && options.only.length > 0 ? options.only : files.keys());
  const selectedFiles = new Set([...selected].map((n) => files.get(n)?.source.file));
  for (const [name, loaded] of files) if (selected.has(name)) problems.push(...loaded.problems);
  problems.push(...crossProblems.filter((p) => selectedFiles.has(p.file)));
  problems.push(...sharedCheckProblems(root, [...files.values()].filter((f) => selected.has(f.name)).map((f) => f.source)));
  // A fleet's targets file is read now, so that validate reports its mistakes too (at their lines in it).
  for (const file of files.values()) {
    if (selected.has(file.name) && file.environment?.fleet) problems.push(...targetFileProblems(root, file.environment, locate(file.source, ['targets_from', 'file'])));
  }
  problems.push(...contracts.problems);
  problems.push(...settings.problems);
  return { root, files, contracts, ladder: settings.ladder, problems: sortProblems(problems) };
}

function checkAcrossFiles(root: string, files: Map<string, EnvironmentFile>): Problem[] {
  const problems: Problem[] = [];
  const names = [...files.keys()];
  for (const [name, env] of files) for (const [index, target] of env.promotesToAll.entries()) {
    const listed = Array.isArray((env.source.data as { promotes_to?: unknown } | undefined)?.promotes_to);
    // Located only for a problem: locating builds the file's positioned document (~50 ms for seed 001's two files).
    const at = () => ({ file: env.source.file, ...locate(env.source, listed ? ['promotes_to', index] : ['promotes_to']) });
    if (target === name) {
      problems.push({ ...at(), severity: 'error', message: `environment '${name}' promotes to itself; remove promotes_to or name the next environment.` });
    } else if (!files.has(target)) {
      problems.push({ ...at(), severity: 'error', message: `promotes_to names '${clip(target)}', but there is no ${ENVIRONMENTS_DIR}/${clip(target)}.yaml${suggestion(target, names)}` });
    }
  }
  // Promotion cycles: follow promotes_to from each environment; report each cycle once, at every member.
  const reported = new Set<string>();
  const inCycle = new Set<string>();
  for (const cycle of promotionCycles(files)) {
    if (cycle.length < 2) continue; // promoting to itself is reported above
    const id = [...cycle].sort().join('>');
    if (reported.has(id)) continue;
    reported.add(id);
    for (const member of cycle) inCycle.add(member);
    const text = [...cycle, cycle[0]].join(' → ');
    for (const member of cycle) {
      const source = files.get(member)!.source;
      problems.push({
        file: source.file,
        ...locate(source, ['promotes_to']),
        severity: 'error',
        message: `promotion cycle: ${text}. Promotion runs one way (e.g. staging → production): remove promotes_to from whichever of ${[...cycle].sort().join(', ')} should come last.`,
      });
    }
  }
  // A downstream environment may only carry flags its upstream has: promotion brings them down.
  // Inside a promotion cycle "upstream" means nothing yet: the cycle is reported, not every flag.
  for (const [name, upstream] of files) for (const target of upstream.promotesToAll) {
    const downstream = files.get(target);
    if (!downstream || downstream === upstream || (inCycle.has(name) && inCycle.has(downstream.name))) continue;
    // A broken upstream file whose flags could not be read (a typo such as `flgas:`) has none to
    // compare with: its own error is the real cause, so the downstream gets one note, not an error per flag (issue 13, defect 7).
    if (upstream.flagKeys.length === 0 && hasErrors(upstream.problems)) {
      problems.push({
        file: downstream.source.file,
        line: 1,
        column: 1,
        severity: 'warning',
        message: `${downstream.name}'s flags were not compared with ${name}'s, which promotes to ${downstream.name}: ${upstream.source.file} has errors that leave it without flags; fix those first.`,
      });
      continue;
    }
    const upstreamKeys = new Set(upstream.flagKeys);
    for (const key of downstream.flagKeys) {
      if (upstreamKeys.has(key)) continue;
      problems.push({
        file: downstream.source.file,
        ...locate(downstream.source, ['flags', key], { key: true }),
        severity: 'error',
        message: `flag '${clip(key)}' is in ${downstream.name} but not in ${name}, which promotes to ${downstream.name}${suggestion(key, upstream.flagKeys)} Add it to ${upstream.source.file} first; it reaches ${downstream.name} by promotion.`,
      });
    }
  }
  // Migration folders named explicitly must exist.
  for (const env of files.values()) {
    const directory = env.environment?.migrations.directory;
    const explicit = (env.source.data as { migrations?: { directory?: string } } | undefined)?.migrations?.directory;
    if (directory && explicit && !isDirectory(join(root, directory))) {
      problems.push({ file: env.source.file, ...locate(env.source, ['migrations', 'directory']), severity: 'error', message: `migrations.directory '${directory}' does not exist; create it or fix the path (relative to the repository root).` });
    }
  }
  return problems;
}

/** Every cycle of promotes_to edges (an environment may promote to several), each as the path around it. */
function promotionCycles(files: Map<string, EnvironmentFile>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (path.includes(name)) {
      cycles.push(path.slice(path.indexOf(name)));
      return;
    }
    if (done.has(name) || !files.has(name)) return;
    for (const next of files.get(name)!.promotesToAll) visit(next, [...path, name]);
    done.add(name);
  };
  for (const name of files.keys()) visit(name, []);
  return cycles;
}

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/** Load one environment for a command that acts on it; any error in the files stops it. */
export function loadEnvironment(root: string, name: string, options: { now?: Date } = {}): { environment: Environment; repository: Repository } {
  const repository = loadRepository(root, { only: [name], ...options });
  const environment = repository.files.get(name)?.environment;
  if (hasErrors(repository.problems) || !environment) throw new ValidationError(repository.problems);
  return { environment, repository };
}
