/**
 * Problems rendered three ways: text for terminals (with the offending line shown),
 * JSON for scripts, and GitHub workflow commands for annotations on the PR diff.
 */
import type { Problem } from '../problems.ts';
import { maskUrlCredentials } from '../secrets.ts';

export type ProblemFormat = 'text' | 'json' | 'github';
export const PROBLEM_FORMATS: readonly ProblemFormat[] = ['text', 'json', 'github'];

export interface TextOptions {
  /** File contents by path, to show the offending line under each problem. */
  sources?: ReadonlyMap<string, string>;
  color?: boolean;
}

export function renderProblems(problems: readonly Problem[], format: ProblemFormat, options: TextOptions = {}): string {
  // A problem may quote the user's file, and the file may hold the secret it is about.
  return maskUrlCredentials(renderUnmasked(problems, format, options));
}

function renderUnmasked(problems: readonly Problem[], format: ProblemFormat, options: TextOptions): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(problems.map(({ file, line, column, severity, message }) => ({ file, line, column, severity, message })), null, 2)}\n`;
    case 'github':
      return problems.map(githubAnnotation).join('');
    case 'text':
      return renderText(problems, options);
  }
}

function renderText(problems: readonly Problem[], options: TextOptions): string {
  const paint = options.color ? ansi : plain;
  const lines: string[] = [];
  const lineCache = new Map<string, string[]>();
  for (const p of problems) {
    const label = p.severity === 'error' ? paint.red('error') : paint.yellow('warning');
    lines.push(`${paint.bold(`${p.file}:${p.line}:${p.column}`)}: ${label}: ${p.message}`);
    const text = options.sources?.get(p.file);
    if (text !== undefined) {
      let fileLines = lineCache.get(p.file);
      if (!fileLines) {
        fileLines = text.split(/\r?\n/);
        lineCache.set(p.file, fileLines);
      }
      const source = fileLines[p.line - 1];
      if (source !== undefined && source.trim() !== '' && source.length <= 400) {
        const gutter = String(p.line).padStart(5);
        lines.push(`${paint.dim(`${gutter} |`)} ${source.replace(/\t/g, '→')}`);
        lines.push(`${paint.dim(`${' '.repeat(5)} |`)} ${' '.repeat(Math.max(0, p.column - 1))}${paint.red('^')}`);
      }
    }
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (problems.length > 0) lines.push('', `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** https://docs.github.com/actions/reference/workflow-commands-for-github-actions#setting-an-error-message */
function githubAnnotation(p: Problem): string {
  const command = p.severity === 'error' ? 'error' : 'warning';
  return `::${command} file=${escapeProperty(p.file)},line=${p.line},col=${p.column}::${escapeData(p.message)}\n`;
}

// Escaping rules from @actions/core's command.ts, so a message can hold any text.
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

const wrap = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
const ansi = { red: wrap(31), yellow: wrap(33), bold: wrap(1), dim: wrap(2) };
const identity = (s: string): string => s;
const plain = { red: identity, yellow: identity, bold: identity, dim: identity };
