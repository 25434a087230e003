/**
 * Target URLs handed over as one JSON object: a job of the matrix gets every secret it may
 * need in ROLLOUT_TARGET_SECRETS (`${{ toJSON(secrets) }}` in a workflow), so that hundreds
 * of targets need no workflow line each. Each target still reads only the variable it names.
 */
import { UsageError } from '../errors.ts';

export const TARGET_SECRETS_VARIABLE = 'ROLLOUT_TARGET_SECRETS';

/** The secrets object of ROLLOUT_TARGET_SECRETS (name → value); empty when unset. */
export function targetSecrets(processEnv: NodeJS.ProcessEnv): Record<string, string> {
  const text = processEnv[TARGET_SECRETS_VARIABLE];
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${TARGET_SECRETS_VARIABLE} is not JSON. Expected an object of secret names to values, e.g. ${TARGET_SECRETS_VARIABLE}: \${{ toJSON(secrets) }}.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${TARGET_SECRETS_VARIABLE} must be a JSON object of secret names to values.`);
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The process environment with those secrets as variables; a variable set directly wins. */
export function withTargetSecrets(processEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secrets = targetSecrets(processEnv);
  return Object.keys(secrets).length === 0 ? processEnv : { ...secrets, ...processEnv };
}
