/** What the plan, apply and verify steps share: the environment, its gates, and a read-only target. */
import type { Environment } from '../engine/config/model.ts';
import { loadEnvironment } from '../engine/config/repository.ts';

export function loadTarget(root: string, name: string): Environment {
  return loadEnvironment(root, name).environment;
}

export { gatesFor, readOnlyTarget } from '../engine/operations.ts';
