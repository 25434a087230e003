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
      'actions/engine/checks/guard.ts',
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
    ],
    tests: [
      'test/migrate/planner.test.ts',
      'test/migrate/checksum.test.ts',
      'test/migrate/prescan.test.ts',
      'test/migrate/statements.test.ts',
      'test/migrate/sections.test.ts',
      'test/migrate/directives.test.ts',
      'test/migrate/position.test.ts',
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
