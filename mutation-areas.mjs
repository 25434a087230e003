// The areas of the engine that mutation testing covers (issue 19), each with the tests that
// are meant to kill its mutants. `npm run mutation [area ...]` runs Stryker once per area
// (scripts/mutation.mjs): an area keeps its own incremental file, so areas are measured,
// committed and re-run independently, and a run re-tests only what changed in that area.
// Read by stryker.config.mjs and vitest.mutation.config.ts through MUTATION_AREA.
/** @type {Record<string, { mutate: string[]; tests: string[] }>} */
export const areas = {
  // The pure rules: no database in these tests, seconds per mutant.
  core: {
    mutate: [
      'actions/engine/stages/**/*.ts',
      'actions/engine/promote/decide.ts',
      'actions/engine/bucketing/**/*.ts',
      'actions/engine/secrets.ts',
      'actions/engine/checks/statement-guard.ts',
      'actions/engine/checks/deny-list.ts',
    ],
    tests: [
      'test/stages/*.test.ts',
      'test/promote/decide.test.ts',
      'test/bucketing/bucketing.test.ts',
      'test/secrets/scrubber.test.ts',
      'test/checks/guard.test.ts',
    ],
  },
  // The planner (actions/engine/plan/): pure but for read-plan.ts and upstream.ts, which only run
  // against a database (test/plan/read-plan.test.ts, embedded PGlite: about 20 s per mutant
  // here; scope a run of the pure files to the other tests with MUTATION_TESTS).
  // types.ts holds only types.
  plan: {
    mutate: [
      'actions/engine/plan/**/*.ts',
      '!actions/engine/plan/types.ts',
    ],
    tests: [
      'test/plan/hash.test.ts',
      'test/plan/impact.test.ts',
      'test/plan/planner.test.ts',
      'test/plan/json-diff.test.ts',
      'test/plan/read-plan.test.ts',
    ],
  },
  // The read-only guard's session handling: runReadOnly, settle and the role audit only run
  // against a database (guard.test.ts covers its pure parts: chooseRole, the statement guard).
  // Embedded only unless TEST_DATABASE_URL is set: the deadline and a session of its own are
  // tested on a server (guard-session.test.ts).
  guard: {
    mutate: ['actions/engine/checks/guard.ts'],
    tests: ['test/checks/guard.test.ts', 'test/checks/guard-session.test.ts', 'test/checks/read-only.test.ts', 'test/checks/read-only-batch.test.ts'],
  },
  // The flag store, the ledger and its chain. Most of it is SQL: test/store/database.test.ts
  // calls it on one embedded database opened once per run (test/ledger/*.test.ts go through
  // the CLI, seconds per test: too slow to run once per mutant); the chain walk, the audit's
  // texts and what a flag serves need no database (test/store/pure.test.ts).
  store: {
    mutate: ['actions/engine/store/**/*.ts'],
    tests: ['test/store/*.test.ts', 'test/restore/restore-pure.test.ts'],
  },
  // The migrator's pure core: ordering files against the history, checksums, and reading SQL
  // (pre-scan, parser, sections, directives). No database: the parser is WASM, loaded once.
  migrate: {
    mutate: [
      'actions/engine/migrate/planner.ts',
      'actions/engine/migrate/checksum.ts',
      'actions/engine/migrate/prescan.ts',
      'actions/engine/migrate/statements.ts',
      'actions/engine/migrate/sections.ts',
      'actions/engine/migrate/directives.ts',
      'actions/engine/migrate/lexical-classify.ts',
      'actions/engine/migrate/position.ts',
      'actions/engine/migrate/psql-script.ts',
    ],
    tests: [
      'test/migrate/planner.test.ts',
      'test/migrate/checksum.test.ts',
      'test/migrate/prescan.test.ts',
      'test/migrate/statements.test.ts',
      'test/migrate/sections.test.ts',
      'test/migrate/directives.test.ts',
      'test/migrate/position.test.ts',
      'test/migrate/psql-script.test.ts',
    ],
  },
};

/** The area a Stryker or vitest process serves (MUTATION_AREA, default core). */
export function currentArea() {
  const name = process.env.MUTATION_AREA ?? 'core';
  const area = areas[name];
  if (!area) throw new Error(`MUTATION_AREA=${name}: no such area (known: ${Object.keys(areas).join(', ')})`);
  return { name, ...area };
}
