// How much of each guide its example covers, from the requirement table that opens each
// examples/seed-00N-*/README.md. Prints the counts per status and fails (exit 1) when a row
// is not what it claims:
//   - a ✅ row that names no test, or a test that does not exist (the file must hold the name
//     as a string, e.g. it('<name>', …));
//   - a file:line reference whose file or line does not exist, or whose line no longer holds
//     the text in the link's title (the reference went stale: run with --fix);
//   - an "outside the database" row that does not link to the step that covers it (a heading
//     of the README, or a file), or a "pending" row that does not say on what.
//
//   node scripts/seed-coverage.mjs            counts, and every problem
//   node scripts/seed-coverage.mjs --fix      also move stale line numbers to where their title text is now
//   node scripts/seed-coverage.mjs --json     the counts as JSON
//
// A row:  | 12 | §2.D “Interests seeded (should show 6)” | [checks/smoke-test.yaml:93](checks/smoke-test.yaml#L93 "name: interests seeded") | `test/examples/seed-001-guide.test.ts` › 2.D each seed count fails when its table does not hold 6 | ✅ |
// Status: ✅ · pending: <feature> · outside the database: [what covers it](#runbook-heading)
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(ROOT, 'examples');

// [path:line](path#Lline "text on that line") — the title may also be in single quotes.
const REF = /\[([^\]]*)\]\(([^)\s#]+)#L(\d+)(?: (?:"([^"]*)"|'([^']*)'))?\)/g;
const TEST = /`([^`]+\.test\.ts)`\s*›\s*([^<]+?)\s*(?=<br>|$)/g;

/** GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function splitRow(line) {
  // Cells are separated by | that is not escaped as \|.
  const cells = [];
  let cell = '';
  for (let i = 1; i < line.length; i++) {
    if (line[i] === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (line[i] === '|') {
      cells.push(cell.trim());
      cell = '';
    } else cell += line[i];
  }
  return cells;
}

/** The requirement rows of a README: the first table whose header starts with "| # |". */
export function parseTable(text) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\|\s*#\s*\|/.test(l));
  if (start < 0) return { rows: [], header: undefined };
  const header = splitRow(lines[start]);
  const rows = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const [number, says, where, tests, status] = splitRow(lines[i]);
    rows.push({ line: i + 1, number, says, where: where ?? '', tests: tests ?? '', status: status ?? '' });
  }
  return { rows, header };
}

export function statusOf(cell) {
  if (cell.startsWith('✅')) return { kind: 'done' };
  const pending = /^pending:\s*(.+)$/.exec(cell);
  if (pending) return { kind: 'pending', on: pending[1].replace(/\s*\(.*$/, '').trim() };
  if (cell.startsWith('outside the database')) return { kind: 'outside' };
  return { kind: 'unknown' };
}

function testNames(file) {
  const text = readFileSync(file, 'utf8');
  const names = new Set();
  for (const match of text.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) names.add(match[2].replace(/\\(.)/g, '$1'));
  return names;
}

/** Check one README; returns its counts and problems, and (with fix) the corrected text. */
export function checkReadme(readme, { fix = false } = {}) {
  const dir = dirname(readme);
  const name = relative(ROOT, readme);
  let text = readFileSync(readme, 'utf8');
  const { rows } = parseTable(text);
  const problems = [];
  const counts = { done: 0, pending: 0, outside: 0, total: rows.length, pendingOn: {} };
  const anchors = new Set(text.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
  const testCache = new Map();
  const at = (row) => `${name}:${row.line} (row ${row.number})`;
  if (rows.length === 0) problems.push(`${name}: no requirement table (a table whose header starts with "| # |")`);
  const numbers = rows.map((r) => r.number);
  numbers.forEach((n, i) => {
    if (String(i + 1) !== n) problems.push(`${name}: row ${i + 1} is numbered "${n}"; number the rows 1, 2, 3, … in order`);
  });

  for (const row of rows) {
    const status = statusOf(row.status);
    if (status.kind === 'unknown') problems.push(`${at(row)}: status "${row.status}" is none of ✅, pending: <feature>, outside the database: <what covers it>`);
    else if (status.kind === 'pending') {
      counts.pending += 1;
      counts.pendingOn[status.on] = (counts.pendingOn[status.on] ?? 0) + 1;
    } else counts[status.kind] += 1;

    // file:line references, wherever they appear in the row.
    for (const cell of [row.where, row.status, row.tests]) {
      for (const match of cell.matchAll(REF)) {
        const [, label, path, lineText, doubleQuoted, singleQuoted] = match;
        const title = doubleQuoted ?? singleQuoted;
        const quote = singleQuoted !== undefined ? "'" : '"';
        const file = resolve(dir, path);
        if (!existsSync(file)) {
          problems.push(`${at(row)}: ${path} does not exist`);
          continue;
        }
        const lines = readFileSync(file, 'utf8').split('\n');
        const lineNo = Number(lineText);
        let wanted = lineNo;
        if (title !== undefined && !(lines[lineNo - 1] ?? '').includes(title)) {
          const found = lines.flatMap((l, i) => (l.includes(title) ? [i + 1] : []));
          if (found.length === 1) wanted = found[0];
          else problems.push(`${at(row)}: ${path}:${lineNo} does not hold "${title}"${found.length > 1 ? ` (found on lines ${found.join(', ')}: make the title unique)` : ' (nowhere in the file)'}`);
        } else if (lineNo < 1 || lineNo > lines.length) problems.push(`${at(row)}: ${path} has no line ${lineNo}`);
        const wantedLabel = `${path}:${wanted}`;
        if (wanted !== lineNo || label !== wantedLabel) {
          if (fix) text = text.replace(match[0], `[${wantedLabel}](${path}#L${wanted}${title !== undefined ? ` ${quote}${title}${quote}` : ''})`);
          else if (wanted !== lineNo) problems.push(`${at(row)}: ${path}:${lineNo} went stale, "${title}" is on line ${wanted} now (run node scripts/seed-coverage.mjs --fix)`);
          else problems.push(`${at(row)}: the link text "${label}" should be "${wantedLabel}" (run node scripts/seed-coverage.mjs --fix)`);
        }
      }
    }

    const tests = [...row.tests.matchAll(TEST)].map((m) => ({ file: m[1], name: m[2].trim() }));
    if (status.kind === 'done') {
      if (tests.length === 0) problems.push(`${at(row)}: ✅ but names no test (write \`test/…test.ts\` › <test name>)`);
      if (![...row.where.matchAll(REF)].length && !/`[^`]+`/.test(row.where)) problems.push(`${at(row)}: ✅ but says nowhere where the example expresses it`);
    }
    for (const test of tests) {
      const file = resolve(ROOT, test.file);
      if (!existsSync(file)) {
        problems.push(`${at(row)}: test file ${test.file} does not exist`);
        continue;
      }
      if (!testCache.has(file)) testCache.set(file, testNames(file));
      if (!testCache.get(file).has(test.name)) problems.push(`${at(row)}: ${test.file} has no test named "${test.name}"`);
    }
    if (status.kind === 'outside') {
      const links = [...row.status.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
      if (links.length === 0) problems.push(`${at(row)}: "outside the database" must link to what covers it (a runbook heading of this README, or a file)`);
      for (const link of links) {
        if (link.startsWith('#')) {
          if (!anchors.has(link.slice(1))) problems.push(`${at(row)}: ${link} is not a heading of ${name}`);
        } else if (!existsSync(resolve(dir, link.replace(/#.*$/, '')))) problems.push(`${at(row)}: ${link} does not exist`);
      }
    }
    if (status.kind === 'pending' && !status.on) problems.push(`${at(row)}: say what it is pending on, e.g. "pending: serving"`);
  }
  return { name, counts, problems, text };
}

export function guideReadmes() {
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^seed-\d{3}-/.test(e.name))
    .map((e) => join(EXAMPLES, e.name, 'README.md'))
    .sort();
}

function main(args) {
  const fix = args.includes('--fix');
  const results = guideReadmes().map((readme) => {
    const result = checkReadme(readme, { fix });
    if (fix) {
      writeFileSync(readme, result.text);
      return checkReadme(readme);
    }
    return result;
  });
  if (args.includes('--json')) {
    console.log(JSON.stringify(results.map(({ name, counts, problems }) => ({ name, counts, problems })), null, 2));
  } else {
    const all = { done: 0, pending: 0, outside: 0, total: 0 };
    console.log('| guide | ✅ | pending | outside the database | of |\n| --- | ---: | ---: | ---: | ---: |');
    for (const { name, counts } of results) {
      for (const key of Object.keys(all)) all[key] += counts[key];
      const on = Object.entries(counts.pendingOn).map(([feature, n]) => `${n} ${feature}`).join(', ');
      console.log(`| ${name.replace(/^examples\//, '').replace(/\/README\.md$/, '')} | ${counts.done} | ${counts.pending}${on ? ` (${on})` : ''} | ${counts.outside} | ${counts.total} |`);
    }
    console.log(`| all | ${all.done} | ${all.pending} | ${all.outside} | ${all.total} |`);
    for (const { problems } of results) for (const problem of problems) console.error(`error: ${problem}`);
  }
  const problems = results.reduce((n, r) => n + r.problems.length, 0);
  if (problems > 0) {
    console.error(`${problems} problem(s) in the requirement tables.`);
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
