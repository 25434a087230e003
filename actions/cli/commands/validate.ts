import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { loadRepository } from '../../engine/config/repository.ts';
import { hasErrors, sortProblems } from '../../engine/problems.ts';
import { checkRepositoryMigrations } from '../../engine/migrate/offline-check.ts';
import { checkRepositoryQueries } from '../../engine/checks/offline-check.ts';
import { healthScheduleProblems } from '../../engine/config/health-schedule.ts';
import { PROBLEM_FORMATS, renderProblems, type ProblemFormat } from '../../engine/render/problems.ts';
import type { CliContext } from '../context.ts';

export function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description('check every environment file (or the named ones) and report all problems at once')
    .addOption(new Option('--env <name...>', 'only these environments (repeatable)'))
    .addOption(new Option('--format <format>', 'output format').choices(PROBLEM_FORMATS).default('text'))
    .option('--strict', 'treat warnings as problems (exit 1)')
    .action(async (options: { env?: string[]; format: ProblemFormat; strict?: boolean }) => {
      const repository = loadRepository(ctx.root, { only: options.env ?? [] });
      const migrations = await checkRepositoryMigrations(repository, options.env ?? []);
      const queries = await checkRepositoryQueries(repository, options.env ?? []);
      const schedule = healthScheduleProblems(repository);
      const problems = sortProblems([...repository.problems, ...migrations.problems, ...queries, ...schedule.problems]);
      const sources = new Map<string, string>([...[...repository.files.values()].map((f): [string, string] => [f.source.file, f.source.text]), ...migrations.sources, ...schedule.sources]);
      addOtherSources(ctx.root, problems, sources);
      const output = renderProblems(problems, options.format, { sources, color: ctx.isTTY });
      if (options.format === 'text' && problems.length === 0) {
        ctx.out(`✓ ${repository.files.size} environment(s) valid: ${[...repository.files.keys()].join(', ')}`);
      } else if (output) {
        ctx.out(output);
      }
      const failing = options.strict ? problems.length > 0 : hasErrors(problems);
      ctx.setExitCode(failing ? 1 : 0);
    });
}

/**
 * The other files problems point at (rollout.yaml, contracts, shared check files) get their
 * offending line shown too (newcomer mistake 25); a file too big or unreadable just has none.
 */
function addOtherSources(root: string, problems: readonly { file: string }[], sources: Map<string, string>): void {
  for (const { file } of problems) {
    if (sources.has(file)) continue;
    try {
      const path = join(root, file);
      sources.set(file, statSync(path).isFile() && statSync(path).size <= 1024 * 1024 ? readFileSync(path, 'utf8') : '');
    } catch {
      sources.set(file, '');
    }
  }
}
