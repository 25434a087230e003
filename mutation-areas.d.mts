// Types of mutation-areas.mjs for vitest.mutation.config.ts (TypeScript does not read the JSDoc of an .mjs file here).
export interface MutationArea {
  mutate: string[];
  tests: string[];
}
export declare const areas: Record<string, MutationArea>;
export declare function currentArea(): MutationArea & { name: string };
