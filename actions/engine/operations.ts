/**
 * The pipeline's operations as both adapters run them (the CLI and the GitHub Actions):
 * the gate context, a read-only plan, and apply followed by the checks that may revert it.
 * Adapters add only what is theirs: output, comments, deployments.
 */
import type { Environment } from './config/model.ts';
import type { Repository } from './config/repository.ts';
import { loadRepositorySettings } from './config/repository-settings.ts';
import { applyEnvironment, type ApplyResult } from './apply/apply-environment.ts';
import { verifyAfterApply, type VerifyAfterApplyResult } from './checks/index.ts';
import type { ProgressEvent } from './migrate/index.ts';
import type { GateContext } from './plan/planner.ts';
import { readPlan } from './plan/read-plan.ts';
import type { Plan } from './plan/types.ts';
import { readUpstream } from './plan/upstream.ts';
import { readOnly, withSession } from './session.ts';
import { ledgerHead } from './store/ledger-chain.ts';
import { writeConfiguredExport, type ExportWrite } from './export/export-file.ts';
import { recordTiming, sinceStart } from './timings.ts';

/**
 * Gates as of `now` (the real clock unless the caller moves it: the CLI's plan may, from
 * ROLLOUT_NOW), with the repository's ladder and the upstream's live state.
 */
export async function gatesFor(root: string, env: Environment, processEnv: NodeJS.ProcessEnv, repository?: Repository, now: Date = new Date()): Promise<GateContext> {
  const upstream = await readUpstream(root, env, processEnv, repository);
  // The repository read rollout.yaml with the environment files: do not parse and check it twice.
  return { now, ladder: repository?.ladder ?? loadRepositorySettings(root).ladder, ...(upstream ? { upstream } : {}) };
}

const withAdopt = (gates: GateContext, adopt: boolean | undefined): GateContext => (adopt ? { ...gates, adopt: true } : gates);

/** Reads connect as the read-only role when the environment names one and the run has it. */
export function readOnlyTarget(env: Environment, processEnv: NodeJS.ProcessEnv): Environment {
  const db = env.database;
  if (db.kind === 'url' && db.readonlyUrlEnv && processEnv[db.readonlyUrlEnv]) return { ...env, database: { ...db, urlEnv: db.readonlyUrlEnv } };
  return env;
}

export interface PlanRequest {
  root: string;
  env: Environment;
  processEnv: NodeJS.ProcessEnv;
  commit: string | null;
  /** The repository the environment was loaded from, when the caller has it. */
  repository?: Repository;
  /** The clock the gates read; the real one when not given. */
  now?: Date;
  /** Gates already read (a fleet reads its upstream once for all its targets); they carry their own clock. */
  gates?: GateContext;
  /** A first apply may adopt forward positions the upstream has not reached (--adopt; stages/first-apply.ts). */
  adopt?: boolean;
}

/** The plan, computed in a read-only snapshot (as the read-only role when there is one). */
export async function planOperation(request: PlanRequest): Promise<Plan> {
  const { root, processEnv, commit } = request;
  const env = readOnlyTarget(request.env, processEnv);
  const gates = withAdopt(request.gates ?? (await gatesFor(root, env, processEnv, request.repository, request.now)), request.adopt);
  const { plan } = await withSession(env, { root, processEnv, lock: false }, ({ client }) =>
    readOnly(client, () => readPlan(client, { root, env, processEnv, commit, gates })),
  );
  // What validate warns about this file belongs in the plan a reviewer reads (a flag ahead of its upstream).
  const warnings = (request.repository?.problems ?? []).filter((p) => p.severity === 'warning' && p.file === env.file);
  if (warnings.length > 0) plan.fileWarnings = warnings.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
  return plan;
}

export interface ApplyRequest extends PlanRequest {
  actor: string;
  pullRequest: number | null;
  planHash?: string;
  /** Run the environment's checks after applying, and revert its flag changes if one fails. */
  verify: boolean;
  onMigrationProgress?: (event: ProgressEvent) => void;
  /** Re-check the ledger's hash chain for the applied plan's warnings (default true; the CLI prints no plan, so it skips it). */
  ledgerCheck?: boolean;
}

export interface ApplyOutcome {
  result: ApplyResult;
  /** Null when checks were not run (none declared, or verify off). */
  verified: VerifyAfterApplyResult | null;
  /**
   * The ledger's last entry and its chain hash once apply (and any revert) is done: what to
   * publish (job summary, deployment status) so that a rewrite of the ledger can be detected.
   */
  ledgerHead: { id: number; hash: string } | null;
  /** The `export:` file written after the apply (null: the environment has none). */
  exported: ExportWrite | null;
}

export async function applyOperation(request: ApplyRequest): Promise<ApplyOutcome> {
  const { root, env, processEnv, commit, actor, pullRequest } = request;
  const gates = withAdopt(request.gates ?? (await gatesFor(root, env, processEnv, request.repository, request.now)), request.adopt);
  return withSession(env, { root, processEnv, lock: true }, async (session) => {
    recordTiming('apply: until connected', sinceStart());
    const result = await applyEnvironment(session, {
      root,
      processEnv,
      commit,
      actor,
      pullRequest,
      gates,
      ...(request.planHash ? { expectedPlanHash: request.planHash } : {}),
      ...(request.onMigrationProgress ? { onMigrationProgress: request.onMigrationProgress } : {}),
      ...(request.ledgerCheck === false ? { ledgerCheck: false } : {}),
    });
    // Checks run while the lock is still held, so that a revert cannot race another apply.
    const verified = request.verify && env.checks.length > 0 ? await verifyAfterApply(session, result, { root, processEnv, actor, commit, pullRequest }) : null;
    const writer = await session.writer();
    // After any revert, so the file holds what is live; on every run, so a fresh checkout (a CI runner) has it too.
    const exported = await writeConfiguredExport(writer, env, root);
    return { result, verified, ledgerHead: await ledgerHead(writer, env.name), exported };
  });
}
