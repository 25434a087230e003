/** README's action tables are generated from action.yml and kept up to date; action.yml matches what the entries read and write. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error -- a plain .mjs script without types
import { withActionDocs } from '../../scripts/action-docs.mjs';
import { ROOT } from './support.ts';

it('README.md has the tables action.yml generates (node scripts/action-docs.mjs)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect((withActionDocs as (text: string) => string)(readme)).toBe(readme);
});

it.each(['validate', 'plan', 'apply', 'verify', 'promote', 'health', 'fleet'])('actions/%s/action.yml: node24, the bundled entry, kebab-case names', (verb) => {
  const action = parse(readFileSync(join(ROOT, 'actions', verb, 'action.yml'), 'utf8')) as { runs: { using: string; main: string }; inputs: Record<string, { default?: string }>; outputs: Record<string, unknown> };
  expect(action.runs).toEqual({ using: 'node24', main: `../../dist/actions/${verb}.js` });
  for (const name of [...Object.keys(action.inputs), ...Object.keys(action.outputs)]) expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
  if ('github-token' in action.inputs) expect(action.inputs['github-token'].default).toBe('${{ github.token }}');
  const entry = readFileSync(join(ROOT, 'actions', verb, 'main.ts'), 'utf8');
  for (const output of entry.matchAll(/setOutput\('([a-z-]+)'/g)) expect(Object.keys(action.outputs)).toContain(output[1]);
});
