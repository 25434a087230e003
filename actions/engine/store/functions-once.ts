/**
 * Install SQL functions only when their text changed. Apply runs the tool's DDL on every
 * apply; a CREATE OR REPLACE of an unchanged function still rewrites its catalog row, which
 * makes every session that uses it (every service calling rollout.evaluate) throw away its
 * compiled copy and cached plans, and makes two applies of different environments on one
 * database race on the same row ("tuple concurrently updated"). So the statements run inside
 * a DO block that first compares a version — a hash of their own text, kept as the comment of
 * each function — and does nothing when every function already carries it.
 */
import { createHash } from 'node:crypto';

export interface FunctionsOnce {
  /** What the functions are, for the version string ('rollout bucketing'). */
  name: string;
  /** regprocedure text of every function the statements create, e.g. 'rollout.bucket_of(text,text)'. */
  signatures: readonly string[];
  /** PL/pgSQL run before the statements when the version differs (e.g. dropping an older shape); optional. */
  before?: string;
  /** The CREATE OR REPLACE FUNCTION statements, separated by semicolons; they must not use the quote $once$. */
  statements: readonly string[];
}

/** The version a set of statements is installed under: its name and a hash of its text. */
export function versionOf(name: string, statements: readonly string[]): string {
  return `${name} ${createHash('sha256').update(statements.join('\n;\n')).digest('hex').slice(0, 16)}`;
}

export function functionsOnce(spec: FunctionsOnce): string {
  const version = versionOf(spec.name, spec.statements);
  const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
  const stale = spec.signatures.map((s) => `obj_description(to_regprocedure(${literal(s)}), 'pg_proc') IS DISTINCT FROM ${literal(version)}`).join('\n     OR ');
  return `DO $once$
BEGIN
  IF ${stale} THEN
${spec.before ?? ''}
${spec.statements.map((statement) => `    EXECUTE ${dollarQuote(statement)};`).join('\n')}
${spec.signatures.map((s) => `    COMMENT ON FUNCTION ${s} IS ${literal(version)};`).join('\n')}
  END IF;
END
$once$;
`;
}

/** The statement as a dollar-quoted literal, with a tag its text does not contain. */
function dollarQuote(text: string): string {
  let tag = 'ddl';
  for (let i = 0; text.includes(`$${tag}$`); i++) tag = `ddl${i}`;
  return `$${tag}$${text}$${tag}$`;
}
