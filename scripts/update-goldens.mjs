#!/usr/bin/env node
/**
 * npm run golden:update — rewrite the golden files from the current output, then print what
 * changed for a reviewer to read before committing. The tests themselves never write them.
 * Pass test files to update only those (default: every test that has goldens).
 */
import { spawnSync } from 'node:child_process';

const GOLDEN_TESTS = ['test/render/golden.test.ts', 'test/actions/validate-entry.test.ts', 'test/actions/github-api.test.ts'];
const FIXTURES = ['test/fixtures/golden', 'test/fixtures/actions'];

if (process.env.CI === 'true') {
  console.error('golden:update does not run in CI: golden files are written on a developer machine and reviewed.');
  process.exit(2);
}
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : GOLDEN_TESTS;
if (files.includes('test/actions/github-api.test.ts') && !process.env.TEST_DATABASE_URL) {
  console.error('note: test/actions/github-api.test.ts writes its goldens only on a database server (set TEST_DATABASE_URL); the rest are updated now.');
}
const run = spawnSync('npx', ['vitest', 'run', ...files], { stdio: 'inherit', env: { ...process.env, ROLLOUT_UPDATE_GOLDEN: '1' } });
const diff = spawnSync('git', ['diff', '--stat', '--', ...FIXTURES], { encoding: 'utf8' });
const added = spawnSync('git', ['ls-files', '--others', '--exclude-standard', '--', ...FIXTURES], { encoding: 'utf8' });
console.log('\nGolden files changed (read them with git diff before committing):');
console.log(diff.stdout.trim() || '  none changed');
if (added.stdout.trim()) console.log(`New golden files:\n${added.stdout.trim().replace(/^/gm, '  ')}`);
process.exit(run.status ?? 1);
