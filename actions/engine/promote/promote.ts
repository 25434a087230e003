/**
 * `rollout promote --from staging --to production`: read what the upstream has applied
 * and soaked, decide what the downstream may take (decide.ts), edit the downstream file
 * minimally (edit-file.ts), and plan the downstream as it would be after the edit, so the
 * PR shows the plan its reviewers approve. Writes the file only when asked to.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { downstreamsOf, readEnvironmentFile } from '../config/environment-file.ts';
import type { Environment } from '../config/model.ts';
import { loadRepositorySettings } from '../config/repository-settings.ts';
import { loadRepository } from '../config/repository.ts';
import { UsageError, UserError, ValidationError, toError } from '../errors.ts';
import type { GateContext } from '../plan/planner.ts';
import { readPlan } from '../plan/read-plan.ts';
import type { Plan } from '../plan/types.ts';
import { hasErrors } from '../problems.ts';
import { readOnly, withSession } from '../session.ts';
import { readUpstreamLive, upstreamGates } from '../plan/upstream.ts';
import { decidePromotion, holdRefused, type PromotionDecision, type UpstreamLive } from './decide.ts';
import { editEnvironmentText } from './edit-file.ts';

export interface PromoteOptions {
  root: string;
  from: string;
  to: string;
  processEnv: NodeJS.ProcessEnv;
  now: Date;
  commit: string | null;
  /** Write the downstream file; otherwise only report the diff. */
  write: boolean;
}

export interface PromoteResult {
  from: string;
  to: string;
  /** The downstream file, repository-relative. */
  file: string;
  decision: PromotionDecision;
  before: string;
  after: string;
  /** Unified diff of the file ('' when nothing changes). */
  diff: string;
  written: boolean;
  /** The downstream's plan as it would be after the edit, when its database could be read. */
  plan?: Plan;
  /** Why the downstream's plan could not be computed. */
  planUnavailable?: string;
}

export async function promote(options: PromoteOptions): Promise<PromoteResult> {
  const { root, from, to, now } = options;
  const repository = loadRepository(root, { only: [from, to], now });
  const upstream = repository.files.get(from)?.environment;
  const downstreamFile = repository.files.get(to);
  const downstream = downstreamFile?.environment;
  if (hasErrors(repository.problems) || !upstream || !downstream || !downstreamFile) throw new ValidationError(repository.problems);
  if (!downstreamsOf(upstream).includes(to) && downstreamsOf(downstream).includes(from)) {
    // The other way round: suggesting promotes_to here would make a cycle (newcomer mistake 53).
    throw new UsageError(
      `promotion goes the other way: ${to} promotes to ${from} (${downstream.file} has promotes_to: ${from}). Run rollout promote --from ${to} --to ${from}.`,
    );
  }
  if (!downstreamsOf(upstream).includes(to)) {
    throw new UserError(
      `${from} does not promote to ${to} (${upstream.file} has ${upstream.promotesTo ? `promotes_to: ${downstreamsOf(upstream).join(', ')}` : 'no promotes_to'}). Promotion follows promotes_to; add ${to} to promotes_to in ${upstream.file}, or promote to ${downstreamsOf(upstream).join(' or ') || 'the environment it names'}.`,
    );
  }
  const { ladder, segments } = loadRepositorySettings(root);
  const upstreamLive = await readUpstreamOf(root, upstream, options.processEnv);
  const file = downstream.file;
  const before = readFileSync(join(root, file), 'utf8');

  let decision = decidePromotion({ upstream, upstreamLive, downstream, ladder, now });
  let after = before;
  let plan: Plan | undefined;
  let planUnavailable: string | undefined;
  // The downstream's own gates (its soak, dependencies) may refuse a move the upstream allows:
  // such a move is held, and the plan recomputed, until the plan has no refusals.
  for (let round = 0; round < 3; round++) {
    after = decision.edits.length === 0 ? before : editEnvironmentText(file, before, decision.edits);
    const edited = readEnvironmentFile(file, after, repository.contracts, now, { segments });
    if (!edited.environment) throw new ValidationError(edited.problems);
    try {
      plan = await planAfterEdit(root, edited.environment, options, { now, ladder, upstream: upstreamGates(upstreamLive) });
    } catch (thrown) {
      if (!(thrown instanceof UserError)) throw thrown;
      planUnavailable = thrown.message;
      plan = undefined;
      break;
    }
    const refused = new Map(plan.flags.filter((c) => c.gate && !c.gate.allowed).map((c) => [c.key, (c.gate?.gates ?? []).filter((g) => !g.passed).map((g) => g.reason)]));
    if (refused.size === 0) break;
    decision = holdRefused(decision, refused, to);
  }

  const diff = after === before ? '' : unifiedDiff(file, before, after);
  if (options.write && after !== before) writeFileSync(join(root, file), after);
  return { from, to, file, decision, before, after, diff, written: options.write && after !== before, ...(plan ? { plan } : {}), ...(planUnavailable ? { planUnavailable } : {}) };
}

/** What the upstream has applied: live values and positions (with since when), and whether its checks held. */
async function readUpstreamOf(root: string, upstream: Environment, processEnv: NodeJS.ProcessEnv): Promise<UpstreamLive> {
  try {
    if (upstream.fleet) {
      // Loaded only for a fleet: what every one of its targets holds (fleet/upstream.ts).
      const { readFleetUpstreamLive } = await import('../fleet/upstream.ts');
      return await readFleetUpstreamLive(root, upstream, processEnv);
    }
    return await withSession(upstream, { root, processEnv, lock: false }, ({ client }) => readOnly(client, () => readUpstreamLive(client, upstream)));
  } catch (thrown) {
    const error = toError(thrown);
    throw new UserError(
      `cannot read ${upstream.name}'s live state: ${error.message} Promotion carries only what ${upstream.name} has applied and soaked, so it needs ${upstream.name}'s database (read-only).`,
      { cause: error },
    );
  }
}

/** The downstream's plan for the edited file; a UserError when its database cannot be read. */
async function planAfterEdit(root: string, env: Environment, options: PromoteOptions, gates: GateContext): Promise<Plan> {
  try {
    return await withSession(env, { root, processEnv: options.processEnv, lock: false }, ({ client }) =>
      readOnly(client, async () => (await readPlan(client, { root, env, processEnv: options.processEnv, commit: options.commit, gates })).plan),
    );
  } catch (thrown) {
    if (thrown instanceof UserError) throw thrown;
    const error = toError(thrown);
    throw new UserError(`${env.name}'s database could not be read: ${error.message}`, { cause: error });
  }
}

function unifiedDiff(file: string, before: string, after: string): string {
  // Drop the "====" banner line; keep the ---/+++ headers and hunks, as git prints them.
  return createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, { context: 3 })
    .split('\n')
    .filter((line) => !/^=+$/.test(line))
    .join('\n');
}
