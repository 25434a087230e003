/**
 * The rollout ladder: how far a flag has gone. Seed 004's dark_mode / shadow_mode /
 * partial_active / full_active and seed 001's internal / 5% / 25% / 100% are both this.
 *
 * A position is a stage plus, for canary, a percent. The rungs of a repository's ladder
 * are off, dark, shadow, one canary rung per percent step, and full; a forward move goes
 * from one rung to the next (see gates.ts).
 */
import { formatDuration, parseDuration } from '../config/duration.ts';

export const STAGES = ['off', 'dark', 'shadow', 'canary', 'full'] as const;
export type Stage = (typeof STAGES)[number];

export const stageIndex = (stage: Stage): number => STAGES.indexOf(stage);

/** How far a flag has gone: a stage, and for canary the percent of units in it. */
export interface Position {
  stage: Stage;
  /** Percent of units (0 … 100) for canary; ignored for the other stages. */
  percent?: number;
}

/** Stages a repository may leave out of its ladder (seed 001 has no shadow stage). */
export type SkippableStage = 'dark' | 'shadow';

export interface LadderConfig {
  /** Canary percent steps, strictly ascending, each in [0, 100]; 0 is a rung of the flag's segments only. */
  canarySteps: readonly number[];
  /** Stages this repository's ladder leaves out. */
  skip: readonly SkippableStage[];
  /** Minimum time (ms) a flag stays at a stage before its next forward move. */
  soakMs: { dark: number; shadow: number; canary: number; full: number };
  /** Minimum time (ms) at one canary step, by percent; steps not listed use soakMs.canary. */
  canarySoakMs: Readonly<Record<number, number>>;
}

const HOUR = 3_600_000;

/** The default ladder: dark 1 h, shadow 1 h, canary 5 → 25 → 50 → 100 % at 24 h each. */
export const DEFAULT_LADDER: LadderConfig = {
  canarySteps: [5, 25, 50, 100],
  skip: [],
  soakMs: { dark: HOUR, shadow: HOUR, canary: 24 * HOUR, full: 0 },
  canarySoakMs: {},
};

const normalise = (p: Position): Position => (p.stage === 'canary' ? { stage: 'canary', percent: p.percent ?? 0 } : { stage: p.stage });

/**
 * A position as the database stores it (rollout.flag_rollouts) and a plan reports it: a null
 * stage is a plain value, a flag without a rollout; percent is null outside canary.
 */
export interface StoredPosition {
  stage: Stage | null;
  percent: number | null;
}

/** The ladder position of a stored one; undefined for a plain value. The one converter between the two. */
export function ladderPosition(p: StoredPosition): Position | undefined {
  return p.stage === null ? undefined : normalise({ stage: p.stage, percent: p.percent ?? 0 });
}

/** As ladderPosition, where a plain value (or none at all) counts as off, as the gates see it. */
export function ladderPositionOrOff(p: StoredPosition | null | undefined): Position {
  return (p && ladderPosition(p)) ?? { stage: 'off' };
}

/** Order of positions along the ladder: negative if a is below b, 0 if the same, positive if above. */
export function comparePositions(a: Position, b: Position): number {
  const byStage = stageIndex(a.stage) - stageIndex(b.stage);
  if (byStage !== 0) return byStage;
  return a.stage === 'canary' ? (a.percent ?? 0) - (b.percent ?? 0) : 0;
}

export const samePosition = (a: Position, b: Position): boolean => comparePositions(a, b) === 0;

/** How people read a position: "off", "shadow", "canary 25%". */
export function describePosition(p: Position): string {
  return p.stage === 'canary' ? `canary ${p.percent ?? '?'}%` : p.stage;
}

/** The rungs of a ladder, bottom to top. */
export function ladderRungs(ladder: LadderConfig): Position[] {
  const rungs: Position[] = [{ stage: 'off' }];
  for (const stage of ['dark', 'shadow'] as const) if (!ladder.skip.includes(stage)) rungs.push({ stage });
  for (const percent of ladder.canarySteps) rungs.push({ stage: 'canary', percent });
  rungs.push({ stage: 'full' });
  return rungs;
}

/** The index of a position among the ladder's rungs, or -1 when it is not one of them. */
export const rungIndex = (p: Position, ladder: LadderConfig): number => ladderRungs(ladder).findIndex((r) => samePosition(r, normalise(p)));

/** The first rung above a position (the only forward move the gates accept), if any. */
export const nextRung = (p: Position, ladder: LadderConfig): Position | undefined => ladderRungs(ladder).find((r) => comparePositions(r, normalise(p)) > 0);

/** Minimum time (ms) a flag must stay at a position before moving forward from it. */
export function soakOf(p: Position, ladder: LadderConfig): number {
  switch (p.stage) {
    case 'off':
      return 0;
    case 'canary':
      return ladder.canarySoakMs[p.percent ?? 0] ?? ladder.soakMs.canary;
    default:
      return ladder.soakMs[p.stage];
  }
}

/** "off → dark → shadow → canary 5% → … → full", for messages. */
export const describeLadder = (ladder: LadderConfig): string => ladderRungs(ladder).map(describePosition).join(' → ');

/**
 * A ladder as a repository writes it (snake_case, durations as text):
 *   { canary_steps: [5, 25, 50, 100], skip: [shadow], soak: { dark: 1h, canary: 24h, canary_steps: { "25": 48h } } }
 */
export interface LadderSpec {
  canary_steps?: unknown;
  skip?: unknown;
  soak?: { dark?: unknown; shadow?: unknown; canary?: unknown; full?: unknown; canary_steps?: unknown };
}

/** Build a ladder from a repository's spec over the defaults; problems are full sentences, all of them. */
export function resolveLadder(spec: LadderSpec = {}): { ladder: LadderConfig; problems: string[] } {
  const problems: string[] = [];
  const duration = (where: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined) problems.push(`Invalid soak '${typeof value === 'string' ? value : JSON.stringify(value)}' for ${where}. Expected a duration like 30min, 1h or 2d.`);
    return ms ?? fallback;
  };

  let canarySteps = DEFAULT_LADDER.canarySteps;
  if (spec.canary_steps !== undefined) {
    const steps = spec.canary_steps;
    const valid =
      Array.isArray(steps) &&
      steps.length > 0 &&
      steps.every((s, i) => typeof s === 'number' && s >= 0 && s <= 100 && Math.abs(s * 100 - Math.round(s * 100)) < 1e-6 && (i === 0 || s > (steps[i - 1] as number)));
    if (valid) canarySteps = steps as number[];
    else problems.push(`Invalid canary_steps '${JSON.stringify(steps)}'. Expected strictly ascending percents from 0 (segments only) to 100, at most two decimals, like [5, 25, 50, 100].`);
  }

  let skip: SkippableStage[] = [];
  if (spec.skip !== undefined) {
    if (Array.isArray(spec.skip) && spec.skip.every((s) => s === 'dark' || s === 'shadow')) skip = spec.skip as SkippableStage[];
    else problems.push(`Invalid skip '${JSON.stringify(spec.skip)}'. Expected a list of stages to leave out, from: dark, shadow.`);
  }

  const soak = spec.soak ?? {};
  const canarySoakMs: Record<number, number> = {};
  if (soak.canary_steps !== undefined) {
    if (typeof soak.canary_steps === 'object' && soak.canary_steps !== null && !Array.isArray(soak.canary_steps)) {
      for (const [key, value] of Object.entries(soak.canary_steps)) {
        const percent = Number(key);
        if (!canarySteps.includes(percent)) problems.push(`Invalid soak.canary_steps key '${key}'. Expected one of the canary steps: ${canarySteps.join(', ')}.`);
        else canarySoakMs[percent] = duration(`canary ${percent}%`, value, DEFAULT_LADDER.soakMs.canary);
      }
    } else problems.push(`Invalid soak.canary_steps '${JSON.stringify(soak.canary_steps)}'. Expected a map from canary percent to duration, like { "25": 48h }.`);
  }

  const ladder: LadderConfig = {
    canarySteps,
    skip,
    soakMs: {
      dark: duration('dark', soak.dark, DEFAULT_LADDER.soakMs.dark),
      shadow: duration('shadow', soak.shadow, DEFAULT_LADDER.soakMs.shadow),
      canary: duration('canary', soak.canary, DEFAULT_LADDER.soakMs.canary),
      full: duration('full', soak.full, DEFAULT_LADDER.soakMs.full),
    },
    canarySoakMs,
  };
  return { ladder, problems };
}

/** One line per rung with its soak, e.g. for docs and plan output: "canary 25%: 48 h". */
export const describeSoaks = (ladder: LadderConfig): string[] =>
  ladderRungs(ladder)
    .filter((r) => r.stage !== 'off')
    .map((r) => `${describePosition(r)}: ${formatDuration(soakOf(r, ladder))}`);
