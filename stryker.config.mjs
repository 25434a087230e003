// Mutation testing of the engine's pure core (issue 19): `npm run mutation`.
// Incremental: results are kept in reports/stryker-incremental.json (committed), so a run
// re-tests only the mutants whose code or tests changed. The machine is small and shared:
// one test runner, and a vitest config that runs only the unit tests of these files.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    'actions/engine/stages/**/*.ts',
    'actions/engine/promote/decide.ts',
    'actions/engine/bucketing/**/*.ts',
    'actions/engine/secrets.ts',
    'actions/engine/checks/guard.ts',
    'actions/engine/checks/statement-guard.ts',
    'actions/engine/checks/deny-list.ts',
  ],
  ignorePatterns: ['dist', 'bench/.work', 'coverage', 'reports', '.rollout', 'packages/provider/dist', 'examples', 'wip'],
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) rerun every test; on this machine they cost more than the rest together.
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  timeoutMS: 30_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
