/**
 * The tests Stryker runs for each mutant (stryker.config.mjs): the tests of the area being
 * mutated (mutation-areas.mjs, chosen by MUTATION_AREA), so that one mutant costs seconds.
 * MUTATION_TESTS (comma-separated files) narrows them further for a run scoped with
 * `--mutate`, e.g. MUTATION_TESTS=test/secrets/scrubber.test.ts npx stryker run --mutate actions/engine/secrets.ts
 */
import { defineConfig } from 'vitest/config';
import { currentArea } from './mutation-areas.mjs';

export default defineConfig({
  test: {
    include: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(',') : currentArea().tests,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    testTimeout: 60_000,
    // For an area whose tests start a database: starting PGlite on a loaded machine takes a while.
    hookTimeout: 60_000,
  },
});
