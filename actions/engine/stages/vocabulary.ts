/**
 * The seeds' names for rollout stages, mapped onto the one ladder (docs/stages.md).
 *   seed 004: disabled → off, dark_mode → dark, shadow_mode → shadow,
 *             partial_active → canary (the ladder's first step), full_active → full
 *   seed 001: internal → dark, "5%" / "25%" → canary 5 / 25, "100%" → full
 */
import { DEFAULT_LADDER, type LadderConfig, type Position } from './ladder.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Seed 004's ladder: dark 10 min, shadow 15 min, one partial step (25%) for 20 min, then full. */
export const SEED_004_LADDER: LadderConfig = {
  canarySteps: [25],
  skip: [],
  soakMs: { dark: 10 * MINUTE, shadow: 15 * MINUTE, canary: 20 * MINUTE, full: 0 },
  canarySoakMs: {},
};

/** Seed 001's ladder: internal testing 1 day, 5% for 2 days, 25% for 3 days, then 100%. No shadow. */
export const SEED_001_LADDER: LadderConfig = {
  canarySteps: [5, 25],
  skip: ['shadow'],
  soakMs: { dark: DAY, shadow: 0, canary: 2 * DAY, full: 0 },
  canarySoakMs: { 5: 2 * DAY, 25: 3 * DAY },
};

export const SEED_004_NAMES = ['disabled', 'dark_mode', 'shadow_mode', 'partial_active', 'full_active'] as const;
export type Seed004Name = (typeof SEED_004_NAMES)[number];

/** Seed 004's stage name as a position; partial_active is a canary at the ladder's first step. */
export function fromSeed004(name: string, ladder: LadderConfig = SEED_004_LADDER): Position | undefined {
  switch (name) {
    case 'disabled':
      return { stage: 'off' };
    case 'dark_mode':
      return { stage: 'dark' };
    case 'shadow_mode':
      return { stage: 'shadow' };
    case 'partial_active':
      return { stage: 'canary', percent: ladder.canarySteps[0] ?? DEFAULT_LADDER.canarySteps[0] };
    case 'full_active':
      return { stage: 'full' };
    default:
      return undefined;
  }
}

/** A position in seed 004's words; every canary percent is "partial_active". */
export function toSeed004(position: Position): Seed004Name {
  const names: Record<Position['stage'], Seed004Name> = { off: 'disabled', dark: 'dark_mode', shadow: 'shadow_mode', canary: 'partial_active', full: 'full_active' };
  return names[position.stage];
}

/** Seed 001's phase name ("internal", "5%", "25%", "100%") as a position; "off" is off. */
export function fromSeed001(name: string): Position | undefined {
  const text = name.trim().toLowerCase();
  if (text === 'off') return { stage: 'off' };
  if (text === 'internal') return { stage: 'dark' };
  const match = /^(\d+(?:\.\d{1,2})?)\s*%$/.exec(text);
  if (!match) return undefined;
  const percent = Number(match[1]);
  if (percent <= 0 || percent > 100) return undefined;
  return percent === 100 ? { stage: 'full' } : { stage: 'canary', percent };
}

/** A position in seed 001's words: "off", "internal", "5%", "100%"; shadow has no name there. */
export function toSeed001(position: Position): string | undefined {
  switch (position.stage) {
    case 'off':
      return 'off';
    case 'dark':
      return 'internal';
    case 'shadow':
      return undefined;
    case 'canary':
      return `${position.percent ?? 0}%`;
    case 'full':
      return '100%';
  }
}
