/**
 * Stage checks the files alone can make, across environments:
 * - every rollout position is a rung of the repository's ladder (canary 30% is not
 *   when the steps are 5/25/50/100; shadow is not when the ladder skips it);
 * - a downstream environment's flag is never at a later position than its upstream's
 *   (production canary 25% while staging is at canary 5% is a warning at production: the
 *   plan's gate refuses that flag's forward moves, nothing else).
 * What needs live state (soak times, the upstream's checks) is the plan's gates' job.
 */
import type { Problem } from '../problems.ts';
import { STAGES, comparePositions, describeLadder, describePosition, rungIndex, type LadderConfig, type Position, type Stage } from '../stages/ladder.ts';
import type { EnvironmentFile } from './environment-file.ts';
import { locate } from './yaml-source.ts';

export function checkStages(files: ReadonlyMap<string, EnvironmentFile>, ladder: LadderConfig): Problem[] {
  const problems: Problem[] = [];
  const rungs = describeLadder(ladder);
  for (const file of files.values()) {
    for (const [key, position] of rolloutPositions(file)) {
      if (rungIndex(position, ladder) >= 0) continue;
      const onPercent = position.stage === 'canary';
      const fix = onPercent
        ? `use one of the canary steps (${ladder.canarySteps.join(', ')}), or add ${position.percent} to ladder.canary_steps in rollout.yaml.`
        : `this repository's ladder skips ${position.stage} (ladder.skip in rollout.yaml); use the next rung or stop skipping it.`;
      problems.push({
        file: file.source.file,
        ...locate(file.source, ['flags', key, 'rollout', onPercent ? 'percent' : 'stage']),
        severity: 'error',
        message: `flag '${clip(key)}' is at ${describePosition(position)}, which is not on this repository's ladder (${rungs}); ${fix}`,
      });
    }
  }
  for (const upstream of files.values()) for (const name of upstream.promotesToAll) {
    const downstream = name === upstream.name ? undefined : files.get(name);
    if (!downstream) continue;
    const upstreamPositions = rolloutPositions(upstream);
    for (const [key, position] of rolloutPositions(downstream)) {
      const held = upstreamPositions.get(key);
      if (!held || comparePositions(position, held) <= 0) continue;
      problems.push({
        file: downstream.source.file,
        ...locate(downstream.source, ['flags', key, 'rollout']),
        // A warning, not an error: an error would refuse every apply of the downstream file,
        // kill switches and rollbacks included, whenever the upstream rolls back (issue 13, defect 2).
        // The plan's upstream gate refuses the forward moves of this flag alone.
        severity: 'warning',
        message: `flag '${clip(key)}' is at ${describePosition(position)} in ${downstream.name} but only at ${describePosition(held)} in ${upstream.name}, which promotes to ${downstream.name}; a downstream environment is never ahead of its upstream, so apply refuses to move this flag forward in ${downstream.name} (rollbacks, kill switches and other flags still apply). Set ${downstream.name} back to ${describePosition(held)} (or move ${upstream.source.file} first); rollout promote carries it down once it has soaked.`,
      });
    }
  }
  return problems;
}

/** Each flag's rollout position as written, from the raw file (it may have other errors). */
function rolloutPositions(file: EnvironmentFile): Map<string, Position> {
  const positions = new Map<string, Position>();
  const flags = (file.source.data as { flags?: unknown } | undefined)?.flags;
  if (!isRecord(flags)) return positions;
  for (const [key, flag] of Object.entries(flags)) {
    const rollout = isRecord(flag) ? flag.rollout : undefined;
    if (!isRecord(rollout) || !(STAGES as readonly unknown[]).includes(rollout.stage)) continue;
    const stage = rollout.stage as Stage;
    if (stage === 'canary') {
      if (typeof rollout.percent === 'number') positions.set(key, { stage, percent: rollout.percent });
      // A rung of segments only (no percent) is the ladder's canary 0%.
      else if (Array.isArray(rollout.segments) && rollout.segments.length > 0) positions.set(key, { stage, percent: 0 });
    } else positions.set(key, { stage });
  }
  return positions;
}

/** A user's key quoted in a message, shortened when long. */
const clip = (text: string, max = 80): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
