/** A real Postgres server, reached by the URL in the environment variable the environment names. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { loadPg } from './pg.ts';
import { DatabaseError, UserError, toError } from '../errors.ts';
import { ClientSet, type Database } from './database.ts';
import { redactUrl, scrubSecret } from './redact.ts';
import { backupFileName } from './backup-name.ts';

/** `variable`: the environment variable the URL came from, named when the server cannot be reached. */
export function openServer(url: string, environment: string, applicationName: string, variable?: string): Database {
  const label = redactUrl(url);
  const clients = new ClientSet();
  return {
    kind: 'url',
    label,
    async connect() {
      const pg = await loadPg();
      const client = clients.watch(new pg.Client({ connectionString: url, application_name: applicationName }));
      try {
        await client.connect();
      } catch (error) {
        throw new DatabaseError(connectFailure(url, label, variable, error), { cause: error });
      }
      return clients.add(client);
    },
    async backup(directory) {
      await mkdir(directory, { recursive: true });
      const file = join(directory, backupFileName(environment, 'dump'));
      await runPgDump(url, file);
      return file;
    },
    // statement_timeout stops a statement on a server; a connection past its deadline is ended by its user.
    interrupt: () => Promise.resolve(),
    async close() {
      await clients.endAll();
    },
  };
}

/** Which server was tried (host:port), from which variable, why it failed and what to check. */
function connectFailure(url: string, label: string, variable: string | undefined, error: unknown): string {
  const reason = scrubSecret(toError(error).message, url);
  const parsed = new URL(url);
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const where = `${host}:${parsed.port || '5432'}`;
  const code = (error as { code?: unknown }).code;
  const from = variable ? ` (the URL in ${variable})` : '';
  const hint =
    code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH'
      ? `Nothing answered at ${where}: check that the server is running there and that ${variable ?? 'the URL'} names the right host and port.`
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `The host ${host} could not be resolved: check the host name in ${variable ?? 'the URL'}.`
        : `Check ${variable ?? 'the URL'}: its host, port, database, user and password.`;
  return `Could not connect to ${label}${from} at ${where}: ${reason}. ${hint}`;
}

/** pg_dump in custom format; the password goes through PGPASSWORD so it never shows in `ps`. */
function runPgDump(url: string, file: string): Promise<void> {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return new Promise((resolve, reject) => {
    execFile(
      'pg_dump',
      ['--format=custom', `--file=${file}`, `--dbname=${parsed.toString()}`],
      { env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        // "spawn pg_dump ENOENT" says nothing about what to do (newcomer mistake 37).
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(
            new UserError(
              'migrations.backup is set, but pg_dump is not on PATH, so no backup was taken and nothing was migrated. Install the PostgreSQL client tools (pg_dump of the server\'s major version or newer, e.g. apt-get install postgresql-client), or remove migrations.backup from the environment file.',
              { cause: error },
            ),
          );
        }
        const reason = stderr.trim() || error.message;
        reject(new DatabaseError(`pg_dump of ${redactUrl(url)} failed: ${scrubSecret(reason, url)}`, { cause: error }));
      },
    );
  });
}
