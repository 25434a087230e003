/**
 * Break-glass: set a kill switch NOW, without a PR and without any gate — the manual
 * `rollout kill` and a monitor's breach action both come here. The flag and its ledger
 * row (kind 'break-glass') are written in one flag transaction under the flag-write lock,
 * never the environment lock (an apply holds that through its migrations, which may run
 * for minutes); plan then shows the flag as a hold until Git is reconciled to the same value.
 */
import type pg from 'pg';
import { ContractRegistry } from '../config/contracts.ts';
import type { Environment, JsonValue } from '../config/model.ts';
import { UserError } from '../errors.ts';
import { HAS_DEFINITION_COLUMNS } from '../store/definitions-sql.ts';
import { recordFlagChanges, withFlagTransaction } from '../store/flag-writer.ts';
import { liveDefinitionOf, readLiveState } from '../store/live-state.ts';
import { ensureToolSchema } from '../store/tool-schema.ts';
import { servesEveryUnit } from '../serving/definitions.ts';

export const DEFAULT_KILL_VALUE: JsonValue = { enabled: true };

export interface BreakGlassRequest {
  flag: string;
  /** Default {enabled: true}: the switch is on (safe mode). */
  value?: JsonValue;
  reason: string;
  actor: string;
  commit?: string | null;
  /** Where the action came from, for the ledger summary: 'cli' or 'monitor: NAME'. */
  trigger: string;
  /** Repository root, to check the value against the flag's contract. */
  root: string;
  /** Runs inside the switch's transaction with its ledger entry id (health records the breaching measurement there). */
  beforeCommit?: (ledgerId: number) => Promise<void>;
}

export interface BreakGlassResult {
  flag: string;
  before: JsonValue | null;
  after: JsonValue;
  /** null when the switch already had this value (nothing written). */
  ledgerId: number | null;
}

/** Refuse what break-glass may never do: unknown flags, flags not marked kill_switch, values breaking the contract. */
export function validateBreakGlass(env: Environment, request: Pick<BreakGlassRequest, 'flag' | 'value' | 'reason' | 'root'>): JsonValue {
  const spec = env.flags.get(request.flag);
  const switches = [...env.flags.values()].filter((f) => f.killSwitch).map((f) => f.key);
  const listed = switches.length ? `Kill switches in ${env.file}: ${switches.join(', ')}.` : `${env.file} marks no flag kill_switch: true.`;
  if (!spec) throw new UserError(`flag ${request.flag} is not in ${env.file}. ${listed}`);
  if (!spec.killSwitch) throw new UserError(`flag ${request.flag} is not a kill switch, so break-glass may not change it (change it by PR). ${listed}`);
  if (!request.reason.trim()) throw new UserError('a reason is required: say why (it goes in the ledger), e.g. --reason "burn rate 3.1 on checkout".');
  const value = request.value ?? DEFAULT_KILL_VALUE;
  const validate = spec.contract ? new ContractRegistry(request.root).get(spec.contract) : undefined;
  if (validate?.ok && !validate.validate(value)) {
    throw new UserError(`value ${JSON.stringify(value)} breaks contract '${spec.contract}' of ${request.flag} (${validate.file}): ${validate.validate.errors?.map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`).join('; ')}`);
  }
  if (!spec.contract && (typeof value !== 'object' || value === null || Array.isArray(value) || typeof value.enabled !== 'boolean' || Object.keys(value).length !== 1)) {
    throw new UserError(`value ${JSON.stringify(value)} is not a kill switch value: use {"enabled": true} or {"enabled": false}.`);
  }
  return value;
}

/**
 * Set the switch, in one flag transaction: it waits for no migration and no environment
 * lock, only for another flag transaction (short by design), and at most FLAG_LOCK_TIMEOUT_MS.
 */
export async function breakGlass(client: pg.ClientBase, env: Environment, request: BreakGlassRequest): Promise<BreakGlassResult> {
  const value = validateBreakGlass(env, request);
  // No DDL on this path (it could wait behind a migration): the tables exist once anything was applied.
  if (!(await toolSchemaPresent(client))) await ensureToolSchema(client);
  return withFlagTransaction(client, env.name, async () => {
    const live = await readLiveState(client, env.flagTable);
    if (!live.flagTableExists) {
      throw new UserError(`flag table ${live.flagTable} does not exist in ${env.name} yet: run rollout apply --env ${env.name} once first.`);
    }
    const before = live.flags.get(request.flag)?.value ?? null;
    const rollout = live.rollouts.get(request.flag);
    // Already set only when every unit gets the value: a staged switch's units outside its rollout get its off value.
    const served = liveDefinitionOf(request.flag, live);
    const alreadySet = served !== undefined && servesEveryUnit(served, value);
    if (alreadySet) return { flag: request.flag, before, after: value, ledgerId: null };
    const spec = env.flags.get(request.flag);
    // The switch's rollout position is not what break-glass changes: keep the live one.
    const position = rollout ? { stage: rollout.stage, percent: rollout.percent } : { stage: spec?.rollout?.stage ?? null, percent: spec?.rollout?.percent ?? null };
    const ledgerId = await recordFlagChanges(
      client,
      live.flagTable,
      {
        environment: env.name,
        kind: 'break-glass',
        actor: request.actor,
        commit: request.commit ?? null,
        pullRequest: null,
        planHash: null,
        outcome: 'applied',
        reason: request.reason,
        summary: { trigger: request.trigger, flag: request.flag },
      },
      [{ subject: 'flag', key: request.flag, action: 'break-glass', oldValue: before, newValue: value, oldStage: position.stage, newStage: position.stage, oldPercent: position.percent, newPercent: position.percent }],
      // The definition stays as Git made it; the override is what every unit gets until an apply writes the flag again.
      [{ key: request.flag, value: rollout?.definition?.value ?? before ?? value, position, override: value }],
      request.beforeCommit,
    );
    return { flag: request.flag, before, after: value, ledgerId };
  });
}

/** Set the switch (a monitor's breach action). Kept for its callers: it is breakGlass, which needs no environment lock. */
export function tripKillSwitch(client: pg.ClientBase, env: Environment, request: BreakGlassRequest): Promise<BreakGlassResult> {
  return breakGlass(client, env, request);
}

/** The tables and the definition columns this version writes (a database an older version set up lacks the columns). */
async function toolSchemaPresent(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(
    `SELECT to_regclass('rollout.ledger') IS NOT NULL AND to_regclass('rollout.flag_definitions') IS NOT NULL
            AND ${HAS_DEFINITION_COLUMNS} AS ok`,
  );
  return Boolean(rows[0]?.ok);
}
