#!/usr/bin/env node
// `npm run mutation [area ...]`: Stryker once per area of mutation-areas.mjs (all by default),
// one after another (the machine has two cores), at low priority. Extra Stryker options may
// follow `--`, e.g. `npm run mutation -- plan -- --mutate actions/engine/plan/hash.ts`.
import { spawnSync } from 'node:child_process';
import { areas } from '../mutation-areas.mjs';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const names = split === -1 ? args : args.slice(0, split);
const extra = split === -1 ? [] : args.slice(split + 1);
const unknown = names.filter((n) => !(n in areas));
if (unknown.length > 0) {
  console.error(`mutation: no area ${unknown.join(', ')} (known: ${Object.keys(areas).join(', ')})`);
  process.exit(64);
}
let failed = 0;
for (const name of names.length > 0 ? names : Object.keys(areas)) {
  console.log(`\n== mutation area ${name}`);
  const run = spawnSync('nice', ['-n', '15', 'npx', 'stryker', 'run', ...extra], {
    stdio: 'inherit',
    env: { ...process.env, MUTATION_AREA: name },
  });
  if (run.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
