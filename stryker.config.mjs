// Mutation testing of the engine's core (issue 19): `npm run mutation [area ...]`.
// One Stryker run per area of mutation-areas.mjs (MUTATION_AREA): each keeps its results in
// reports/stryker/<area>.json (committed), so a run re-tests only the mutants whose code or
// tests changed. The machine is small and shared: one test runner, and a vitest config that
// runs only the area's tests.
import { currentArea } from './mutation-areas.mjs';

const area = currentArea();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: area.mutate,
  ignorePatterns: ['dist', 'bench/.work', 'coverage', 'reports', '.rollout', 'packages/provider/dist', 'examples', 'wip'],
  concurrency: 1,
  incremental: true,
  incrementalFile: `reports/stryker/${area.name}.json`,
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) rerun every test; on this machine they cost more than the rest together.
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${area.name}.json` },
  thresholds: { high: 90, low: 85, break: null },
  timeoutMS: 30_000,
  tempDirName: `.stryker-tmp-${area.name}`,
  cleanTempDir: 'always',
};
