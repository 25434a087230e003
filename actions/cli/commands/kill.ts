import { Command, InvalidArgumentError } from 'commander';
import { breakGlass, validateBreakGlass } from '../../engine/breakglass/index.ts';
import type { JsonValue } from '../../engine/config/model.ts';
import { currentActor, currentCommit } from '../../engine/migrate/provenance.ts';
import { withSession } from '../../engine/session.ts';
import { writeConfiguredExport } from '../../engine/export/export-file.ts';
import { reportExport } from './export.ts';
import type { CliContext } from '../context.ts';
import type { Environment } from '../../engine/config/model.ts';
import { UsageError } from '../../engine/errors.ts';
import type { BreakGlassRequest } from '../../engine/breakglass/index.ts';
import { breakGlassFleet } from '../../engine/fleet/break-glass.ts';
import { withTargetSecrets } from '../../engine/fleet/secrets.ts';
import { parsePositiveInt } from './options.ts';

export function killCommand(ctx: CliContext): Command {
  return new Command('kill')
    .description('break-glass: set a kill switch now, without a PR or any gate; recorded in the ledger and shown by plan until Git has it')
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--flag <key>', 'a flag marked kill_switch: true')
    .requiredOption('--reason <text>', 'why (goes in the ledger)')
    .option('--value <json>', 'value to set (default {"enabled": true})', parseJson)
    .option('--wave <name>', 'fleet: only the targets of this wave (default: every target)')
    .option('--concurrency <n>', 'fleet: targets set at once', parsePositiveInt)
    .action(async (options: { env: string; flag: string; reason: string; value?: JsonValue; wave?: string; concurrency?: number }) => {
      const env = await ctx.loadEnvironment(options.env);
      if (!env.fleet && (options.wave !== undefined || options.concurrency)) {
        throw new UsageError(`${env.name} is one database, not a fleet: --wave and --concurrency apply to environments with targets: (docs/fleets.md).`);
      }
      const request = {
        flag: options.flag,
        reason: options.reason,
        actor: currentActor(ctx.env),
        commit: await currentCommit(ctx.root, ctx.env),
        trigger: 'cli: rollout kill',
        root: ctx.root,
        ...(options.value !== undefined ? { value: options.value } : {}),
      };
      if (env.fleet) return killFleet(ctx, env, request, options);
      validateBreakGlass(env, request); // refuse before connecting
      const { result, exported } = await withSession(env, { root: ctx.root, processEnv: ctx.env, lock: false }, async ({ client }) => {
        const result = await breakGlass(client, env, request);
        // Only after the switch has committed: the file never delays it.
        return { result, exported: result.ledgerId === null ? null : await writeConfiguredExport(client, env, ctx.root) };
      });
      if (result.ledgerId === null) {
        ctx.out(`${env.name}: ${result.flag} is already ${JSON.stringify(result.after)}; nothing written.`);
        return;
      }
      ctx.out(`${env.name}: ${result.flag} set to ${JSON.stringify(result.after)} (was ${JSON.stringify(result.before)}) by break-glass, ledger entry #${result.ledgerId}.`);
      ctx.out(`  plan shows it as a hold until ${env.file} says ${JSON.stringify(result.after)} too: open a PR that records it in Git.`);
      reportExport(ctx, env, exported);
    });
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new InvalidArgumentError(`Invalid JSON '${text}'. Expected e.g. '{"enabled": true}' (quote it for the shell).`);
  }
}

/** Every target of a fleet (or one wave's) at once; one line per target, exit 1 if any could not be set. */
async function killFleet(ctx: CliContext, env: Environment, request: BreakGlassRequest, options: { wave?: string; concurrency?: number }): Promise<void> {
  const { value, targets } = await breakGlassFleet(env, {
    ...request,
    processEnv: withTargetSecrets(ctx.env),
    ...(options.wave !== undefined ? { wave: options.wave } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    onTarget: (r) =>
      ctx.out(
        r.outcome === 'set'
          ? `  ${r.wave}/${r.target}: set (was ${JSON.stringify(r.before)}), ledger entry #${r.ledgerId}`
          : r.outcome === 'already'
            ? `  ${r.wave}/${r.target}: already ${JSON.stringify(r.before)}; nothing written`
            : `  ${r.wave}/${r.target}: FAILED — ${r.error?.split('\n')[0]}`,
      ),
  });
  const failed = targets.filter((t) => t.outcome === 'failed');
  const set = targets.filter((t) => t.outcome === 'set').length;
  ctx.out(`${env.name}: ${request.flag} = ${JSON.stringify(value)} by break-glass on ${set} target(s), ${targets.length - set - failed.length} already so, ${failed.length} failed (of ${targets.length}).`);
  if (failed.length > 0) {
    ctx.setExitCode(1);
    ctx.out(`  Retry the failed ones alone: ${failed.map((t) => `rollout kill --env ${env.name}/${t.target} --flag ${request.flag} --reason …`).slice(0, 3).join('; ')}${failed.length > 3 ? ' …' : ''}`);
  }
  if (set > 0) ctx.out(`  plan shows it as a hold on those targets until ${env.file} says ${JSON.stringify(value)} too: open a PR that records it in Git.`);
}
