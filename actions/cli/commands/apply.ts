import { Command, InvalidArgumentError, Option } from 'commander';
import { planHashProblem } from '../../engine/plan/hash.ts';
import { currentActor, currentCommit } from '../../engine/migrate/provenance.ts';
import { progressReporter } from '../../engine/migrate/index.ts';
import { autoRollbackText, summaryLine } from '../../engine/render/plan.ts';
import { renderCheckReport, type VerifyAfterApplyResult } from '../../engine/checks/index.ts';
import { applyOperation } from '../../engine/operations.ts';
import { applyClockFrom } from '../../engine/promote/clock.ts';
import type { CliContext } from '../context.ts';
import { compactJson } from '../../engine/plan/json-diff.ts';
import type { FlagChange, Plan } from '../../engine/plan/types.ts';
import { UsageError } from '../../engine/errors.ts';
import { parsePositiveInt, pullRequestNumber } from './options.ts';
import { reportExport } from './export.ts';
import { fleetApplyAction, refuseFleetOptions, withFleetOptions, type FleetOptions } from './fleet.ts';
import type { ReportFormat } from '../../engine/fleet/render.ts';

export function applyCommand(ctx: CliContext): Command {
  const command = new Command('apply')
    .description('make the live database match an environment file: migrations, then flags with their ledger entry, under a lock')
    .requiredOption('--env <name>', 'environment to apply')
    .option('--plan-hash <hash>', 'refuse unless the plan still has this hash (the reviewed plan; 12 to 64 hex characters)', parsePlanHash)
    .option('--commit <sha>', 'commit being applied (default: GITHUB_SHA or git HEAD)')
    .option('--pr <number>', 'pull request being applied, for the ledger', parsePositiveInt)
    .option('--no-verify', 'do not run the checks after applying (and so never revert flags)')
    .option('--adopt', "first apply only: adopt canary or full positions the upstream has not reached (the live system already serves them so)")
    .addOption(new Option('--format <format>', 'fleet: report format (default text)').choices(['text', 'markdown', 'json']))
    .option('--out <file>', 'fleet: also write the report as JSON to this file (for rollout fleet report)');
  return withFleetOptions(command)
    .action(async (options: FleetOptions & { env: string; planHash?: string; commit?: string; pr?: number; verify: boolean; adopt?: boolean; format?: ReportFormat; out?: string }) => {
      const now = applyClockFrom(ctx.env);
      // `git rev-parse` runs while the environment file is parsed (it never rejects).
      const pendingCommit = options.commit ?? currentCommit(ctx.root, ctx.env);
      const env = await ctx.loadEnvironment(options.env);
      const commit = await pendingCommit;
      refuseFleetOptions(env, options);
      if (!env.fleet && (options.format || options.out)) throw new UsageError(`--format and --out of apply are for fleets; ${env.name} is one database (its apply prints text; rollout plan --format json has the plan).`);
      if (env.fleet) return fleetApplyAction(ctx, env, { ...options, format: options.format ?? 'text', commit });
      const progress = progressReporter({ isTTY: ctx.isTTY, githubActions: ctx.env.GITHUB_ACTIONS === 'true', out: (line) => ctx.out(line) });
      const { result, verified, ledgerHead, exported } = await applyOperation({
        root: ctx.root,
        env,
        processEnv: ctx.env,
        commit,
        now,
        ...(ctx.repository ? { repository: ctx.repository } : {}),
        actor: currentActor(ctx.env),
        pullRequest: options.pr ?? pullRequestNumber(ctx.env),
        verify: options.verify,
        ...(options.adopt ? { adopt: true } : {}),
        ...(options.planHash ? { planHash: options.planHash } : {}),
        onMigrationProgress: progress,
        // This command prints no plan, so the ledger warnings the plan would carry are not computed (rollout plan and audit show them).
        ledgerCheck: false,
      }).finally(() => progress.flush());
      if (result.ledgerId === null) {
        // A held flag differs from Git on purpose: "matches Git" would be false (issue 13, defect 8).
        ctx.out(
          result.held.length === 0
            ? `${env.name}: nothing to apply; live state matches Git (plan ${result.plan.hash.slice(0, 12)}).`
            : `${env.name}: nothing to apply; live state matches Git except ${result.held.length} flag(s) held by break-glass (plan ${result.plan.hash.slice(0, 12)}).`,
        );
        reportHeld(ctx, result.plan, result.held);
        reportVerification(ctx, env.name, verified);
        reportExport(ctx, env, exported);
        return;
      }
      ctx.out(`${env.name}: applied plan ${result.plan.hash.slice(0, 12)} — ${summaryLine(result.plan)}`);
      if (result.backup) ctx.out(`  backup: ${result.backup}`);
      for (const file of result.migrationsApplied) ctx.out(`  migrated ${file}`);
      for (const change of result.flagChanges) ctx.out(`  ${change.action} ${change.key}`);
      reportHeld(ctx, result.plan, result.held);
      ctx.out(`  ledger entry #${result.ledgerId}`);
      reportVerification(ctx, env.name, verified);
      reportExport(ctx, env, exported);
      // Kept somewhere the database cannot rewrite, it lets rollout audit --head tell a rewritten ledger.
      if (ledgerHead) ctx.out(`  ledger head #${ledgerHead.id} ${ledgerHead.hash}`);
    });
}

/** What apply left as break-glass set it, and how Git catches up. */
function reportHeld(ctx: CliContext, plan: Plan, held: readonly FlagChange[]): void {
  const file = plan.file;
  for (const change of held) {
    if (change.autoRollback) {
      ctx.out(`  kept ${change.key}: ${autoRollbackText(change, plan)}`);
      continue;
    }
    if (change.to?.stage != null && change.to.stage !== 'full') {
      // A staged kill switch: Git catches up by serving the value to every unit, not by the value field alone.
      ctx.out(
        `  kept ${change.key} = ${compactJson(change.before)} for every unit: held by break-glass (ledger #${change.breakGlass?.ledgerId}); ${file} serves it to some units only. ` +
          `Reconcile: merge the PR that serves ${compactJson(change.before)} to every unit (value at full, off_value at off, or both) in ${file}.`,
      );
      continue;
    }
    ctx.out(
      `  kept ${change.key} = ${compactJson(change.before)}: held by break-glass (ledger #${change.breakGlass?.ledgerId}); Git says ${compactJson(change.after)}. ` +
        `Reconcile: merge the PR that sets it to ${compactJson(change.before)} in ${file} (or edit ${file} so).`,
    );
  }
}

/** The checks after apply, and what was reverted (flags) and what was not (migrations, forward only). */
function reportVerification(ctx: CliContext, environment: string, verified: VerifyAfterApplyResult | null): void {
  if (!verified) return;
  ctx.out('');
  ctx.out(renderCheckReport(verified.report, 'text'));
  if (verified.report.ok) return;
  ctx.setExitCode(1);
  if (verified.revert) {
    ctx.out('');
    ctx.out(`${environment}: checks failed, so this apply's flag changes were REVERTED (ledger entry #${verified.revert.ledgerId}, kind revert):`);
    for (const r of verified.revert.reverted) {
      ctx.out(`  ${r.key}: ${JSON.stringify(r.undone ?? null)} → ${r.restored === undefined ? '(removed)' : JSON.stringify(r.restored)}`);
    }
    // Moves toward safety made by the same apply are never undone (checks/revert-policy.ts).
    for (const k of verified.revert.kept) ctx.out(`  kept ${k.key}: ${k.reason}`);
  } else {
    ctx.out(`${environment}: checks failed; this apply changed no flags, so there was nothing to revert.`);
  }
  if (verified.migrationsKept.length > 0) {
    ctx.out(`  migrations are forward-only and were NOT reverted: ${verified.migrationsKept.join(', ')}. Fix forward with a new migration if they are the cause.`);
  } else {
    ctx.out('  (migrations are forward-only: none were applied by this run, none reverted.)');
  }
}

function parsePlanHash(text: string): string {
  const problem = planHashProblem(text);
  if (problem) throw new InvalidArgumentError(problem);
  return text.toLowerCase();
}
