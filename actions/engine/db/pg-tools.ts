/**
 * Running Postgres's own client programs (pg_dump, pg_restore) against a server URL. The
 * password goes through PGPASSWORD so that it never shows in `ps`, and every message is
 * scrubbed of it.
 */
import { execFile } from 'node:child_process';
import { DatabaseError } from '../errors.ts';
import { redactUrl, scrubSecret } from './redact.ts';

export type PgProgram = 'pg_dump' | 'pg_restore';

/** `url` with its path pointing at database `name` (same server, same role). */
export function urlOfDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/**
 * Run `program` with `args`; `url`, when given, is passed as --dbname (without its password).
 * Resolves to what it printed; rejects with what it said on stderr, scrubbed.
 */
export function runPgProgram(program: PgProgram, args: readonly string[], url: string | undefined, what: string, reference = url): Promise<string> {
  let password = '';
  const dbname: string[] = [];
  if (url) {
    const parsed = new URL(url);
    password = decodeURIComponent(parsed.password);
    parsed.password = '';
    dbname.push(`--dbname=${parsed.toString()}`);
  }
  return new Promise((resolve, reject) => {
    execFile(
      program,
      [...args, ...dbname],
      { env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        const reason = missing
          ? `${program} is not installed (or not on PATH): install the PostgreSQL client programs of your server's major version (e.g. apt-get install postgresql-client)`
          : stderr.trim() || error.message;
        const scrubbed = reference ? scrubSecret(reason, reference) : reason;
        reject(new DatabaseError(`${what}${reference ? ` (${redactUrl(reference)})` : ''} failed: ${scrubbed}`, { cause: error }));
      },
    );
  });
}
