// Types of mutation-areas.mjs, for vitest.mutation.config.ts under `npm run typecheck`.
export interface MutationArea {
  mutate: string[];
  tests: string[];
}
export declare const areas: Record<string, MutationArea>;
export declare function currentArea(): MutationArea & { name: string };
