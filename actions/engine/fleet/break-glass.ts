/**
 * Break-glass on a fleet: set a kill switch on every target (or one wave's) at once. Each target
 * gets the single-database break-glass (its flag transaction and ledger entry); no wave order,
 * soak or failure budget applies, since a kill switch is never held back by any gate. A target
 * that cannot be reached does not stop the others: the result names it, to retry alone.
 */
import type { JsonValue } from '../config/model.ts';
import type { Environment } from '../config/model.ts';
import { breakGlass, validateBreakGlass, type BreakGlassRequest } from '../breakglass/index.ts';
import { toError } from '../errors.ts';
import { withSession } from '../session.ts';
import { runPool } from './pool.ts';
import { defaultConcurrency, selectFleet, type SelectOptions } from './selection.ts';
import { targetEnvironment } from './target-environment.ts';

export interface TargetBreakGlass {
  target: string;
  wave: string;
  /** set: written with its ledger entry; already: the switch had the value; failed: see error. */
  outcome: 'set' | 'already' | 'failed';
  before?: JsonValue | null;
  ledgerId?: number;
  error?: string;
}

export interface FleetBreakGlassRequest extends BreakGlassRequest, SelectOptions {
  processEnv: NodeJS.ProcessEnv;
  concurrency?: number;
  onTarget?: (result: TargetBreakGlass) => void;
}

export async function breakGlassFleet(env: Environment, request: FleetBreakGlassRequest): Promise<{ value: JsonValue; targets: TargetBreakGlass[] }> {
  // Refused before any connection: the same flag, value and reason rules as for one database.
  const value = validateBreakGlass(env, request);
  const { processEnv, concurrency, onTarget, wave: _wave, shard: _shard, ...single } = request;
  const selection = await selectFleet(env, { root: request.root, processEnv }, request);
  const items = selection.selected.flatMap((w) => w.targets.map((target) => ({ wave: w.name, target })));
  const done = await runPool(items, concurrency ?? defaultConcurrency(selection, processEnv), async ({ wave, target }): Promise<TargetBreakGlass> => {
    const one = targetEnvironment(env, target);
    let result: TargetBreakGlass;
    try {
      const set = await withSession(one, { root: request.root, processEnv, lock: false }, ({ client }) => breakGlass(client, one, single));
      result = { target: target.name, wave, before: set.before, ...(set.ledgerId === null ? { outcome: 'already' } : { outcome: 'set', ledgerId: set.ledgerId }) };
    } catch (thrown) {
      result = { target: target.name, wave, outcome: 'failed', error: toError(thrown).message };
    }
    onTarget?.(result);
    return result;
  });
  return { value, targets: done.filter((r): r is TargetBreakGlass => r !== undefined) };
}
