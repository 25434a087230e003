/** The verify step: an environment's checks against its live system, read-only. */
import { checkAccess, liveFlagView, renderCheckReport, runEnvironmentChecks, type CheckReport } from '../engine/checks/index.ts';
import { withSession } from '../engine/session.ts';
import { loadTarget, readOnlyTarget, refuseFleet, withDatabaseUrls } from './environment.ts';
import type { VerifyInputs } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export async function verifyStep(inputs: VerifyInputs, processEnv: NodeJS.ProcessEnv, runtime: Runtime): Promise<CheckReport> {
  const loaded = loadTarget(inputs.root, inputs.environment);
  refuseFleet(loaded, 'verify');
  processEnv = withDatabaseUrls(processEnv, [[loaded, inputs.databaseUrl]]);
  const env = readOnlyTarget(loaded, processEnv);
  const report = await withSession(env, { root: inputs.root, processEnv, lock: false }, async ({ client, db }) =>
    runEnvironmentChecks(env, { root: inputs.root, processEnv, access: checkAccess(env, db), ...(await liveFlagView(client, env)) }),
  );
  await runtime.summary(runtime.scrub(renderCheckReport(report, 'markdown')));
  return report;
}
