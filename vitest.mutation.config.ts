/**
 * The tests Stryker runs for each mutant (stryker.config.mjs): the unit tests of the mutated
 * files only, none that starts a database, so that one mutant costs seconds, not minutes.
 * MUTATION_TESTS (comma-separated files) narrows them further for a run scoped with
 * `--mutate`, e.g. MUTATION_TESTS=test/secrets/scrubber.test.ts npx stryker run --mutate actions/engine/secrets.ts
 */
import { defineConfig } from 'vitest/config';

const ALL = [
  'test/stages/*.test.ts',
  'test/promote/decide.test.ts',
  'test/bucketing/bucketing.test.ts',
  'test/secrets/scrubber.test.ts',
  'test/checks/guard.test.ts',
];

export default defineConfig({
  test: {
    include: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(',') : ALL,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    testTimeout: 60_000,
    // For a run narrowed to database tests (MUTATION_TESTS): starting PGlite on a loaded machine takes a while.
    hookTimeout: 60_000,
  },
});
