/**
 * The tests Stryker runs for each mutant (stryker.config.mjs): the unit tests of the mutated
 * files only, none that starts a database, so that one mutant costs seconds, not minutes.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/stages/*.test.ts',
      'test/promote/decide.test.ts',
      'test/bucketing/bucketing.test.ts',
      'test/secrets/scrubber.test.ts',
      'test/checks/guard.test.ts',
    ],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    testTimeout: 60_000,
  },
});
