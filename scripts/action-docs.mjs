// The README's action tables come from each actions/<verb>/action.yml (one source of truth).
// `node scripts/action-docs.mjs` rewrites the README between the markers; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ACTIONS = ['validate', 'plan', 'apply', 'verify', 'promote', 'health', 'fleet'];
const START = '<!-- actions:start -->';
const END = '<!-- actions:end -->';

const cell = (text) => String(text ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim();

export function renderActionDocs() {
  const out = [START, '', '## GitHub Actions', '', 'Generated from each `action.yml` by `node scripts/action-docs.mjs`; setup in [docs/github.md](docs/github.md).'];
  for (const verb of ACTIONS) {
    const action = parse(readFileSync(join(root, 'actions', verb, 'action.yml'), 'utf8'));
    out.push('', `### \`./actions/${verb}\``, '', cell(action.description), '', '| input | required | default | description |', '| --- | --- | --- | --- |');
    for (const [name, input] of Object.entries(action.inputs ?? {})) {
      out.push(`| \`${name}\` | ${input.required ? 'yes' : 'no'} | ${input.default === undefined || input.default === '' ? '' : `\`${cell(input.default)}\``} | ${cell(input.description)} |`);
    }
    out.push('', '| output | description |', '| --- | --- |');
    for (const [name, output] of Object.entries(action.outputs ?? {})) out.push(`| \`${name}\` | ${cell(output.description)} |`);
  }
  out.push('', END);
  return out.join('\n');
}

export function withActionDocs(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) return `${readme.trimEnd()}\n\n${renderActionDocs()}\n`;
  return readme.slice(0, start) + renderActionDocs() + readme.slice(end + END.length);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = join(root, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = withActionDocs(before);
  if (process.argv.includes('--check')) {
    if (after !== before) {
      console.error('README.md action tables are out of date: run node scripts/action-docs.mjs');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(file, after);
  }
}
