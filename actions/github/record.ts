/** Git stays the truth: a kill switch set by break-glass is written back to its file by a PR. */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { JsonValue } from '../engine/config/model.ts';
import { editEnvironmentText } from '../engine/promote/edit-file.ts';
import { describePosition, type Position } from '../engine/stages/ladder.ts';
import { autoRollbackMarker, breakGlassMarker } from './comment.ts';
import type { ScmClient } from './scm.ts';
import { reconcileBranch } from '../engine/render/git-sync.ts';

export interface KillRecord {
  environment: string;
  /** The environment's file, repository-relative. */
  file: string;
  flag: string;
  value: JsonValue;
  reason: string;
  ledgerId: number | null;
  trigger: string;
}

export async function recordKillSwitch(scm: ScmClient, input: { root: string; workspace: string; base: string; runUrl: string; record: KillRecord }): Promise<number> {
  const { record } = input;
  const before = readFileSync(join(input.root, record.file), 'utf8');
  const after = editEnvironmentText(record.file, before, [{ kind: 'value', key: record.flag, value: record.value }]);
  const path = relative(input.workspace, join(input.root, record.file)) || record.file;
  const body = [
    breakGlassMarker(record.environment, record.flag),
    '',
    `Break-glass set kill switch \`${record.flag}\` in **${record.environment}** to \`${JSON.stringify(record.value)}\`${record.ledgerId !== null ? ` (ledger entry #${record.ledgerId})` : ''}.`,
    '',
    `- why: ${record.reason.replace(/\r?\n/g, ' ')}`,
    `- by: ${record.trigger} ([run](${input.runUrl}))`,
    '',
    `Live state already has this value. Merge this PR so that \`${record.file}\` says the same: until then, every plan for ${record.environment} shows the switch as held by break-glass. To undo the kill switch instead, close this PR and open one that sets the value you want.`,
  ].join('\n');
  const pr = await scm.upsertPullRequest({
    branch: reconcileBranch('break-glass', record.environment, record.flag),
    base: input.base,
    title: `break-glass: ${record.flag} = ${JSON.stringify(record.value)} in ${record.environment}`,
    body,
    message: `break-glass: record ${record.flag} = ${JSON.stringify(record.value)} in ${record.file}`,
    files: [{ path, content: after }],
  });
  return pr.number;
}

export interface RollbackRecord {
  environment: string;
  file: string;
  flag: string;
  from: Position;
  to: Position;
  /** The breached criteria, with their measurements. */
  reason: string;
  ledgerId: number | null;
}

/** Git stays the truth for an auto-rollback too: a PR sets the flag's rollout where health moved it. */
export async function recordStageRollback(scm: ScmClient, input: { root: string; workspace: string; base: string; runUrl: string; record: RollbackRecord }): Promise<number> {
  const { record } = input;
  const before = readFileSync(join(input.root, record.file), 'utf8');
  const after = editEnvironmentText(record.file, before, [{ kind: 'position', key: record.flag, to: record.to }]);
  const path = relative(input.workspace, join(input.root, record.file)) || record.file;
  const move = `${describePosition(record.from)} → ${describePosition(record.to)}`;
  const body = [
    autoRollbackMarker(record.environment, record.flag),
    '',
    `An exit criterion breached: health moved \`${record.flag}\` in **${record.environment}** back, ${move}${record.ledgerId !== null ? ` (ledger entry #${record.ledgerId}, kind auto-rollback)` : ''}.`,
    '',
    `- why: ${record.reason.replace(/\r?\n/g, ' ')}`,
    `- by: rollout health ([run](${input.runUrl}))`,
    '',
    `Live state is already at ${describePosition(record.to)}. Merge this PR so that \`${record.file}\` says the same: until then every plan for ${record.environment} shows the flag as held by auto-rollback, and apply leaves it where it is. Once the cause is fixed and the criteria hold for the soak, move forward again by PR.`,
  ].join('\n');
  const pr = await scm.upsertPullRequest({
    branch: reconcileBranch('auto-rollback', record.environment, record.flag),
    base: input.base,
    title: `auto-rollback: ${record.flag} ${move} in ${record.environment}`,
    body,
    message: `auto-rollback: record ${record.flag} at ${describePosition(record.to)} in ${record.file}`,
    files: [{ path, content: after }],
  });
  return pr.number;
}
