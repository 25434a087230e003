/**
 * The rollout ladder: how far a flag has gone. Seed 004's dark_mode / shadow_mode /
 * partial_active / full_active and seed 001's internal / 5% / 25% / 100% are both this.
 */
export const STAGES = ['off', 'dark', 'shadow', 'canary', 'full'] as const;
export type Stage = (typeof STAGES)[number];

export const stageIndex = (stage: Stage): number => STAGES.indexOf(stage);
