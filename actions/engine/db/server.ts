/** A real Postgres server, reached by the URL in the environment variable the environment names. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPg } from './pg.ts';
import { DatabaseError, UserError, toError } from '../errors.ts';
import { ClientSet, type Database } from './database.ts';
import { redactUrl, scrubSecret } from './redact.ts';
import { cleanupFailed } from '../cleanup.ts';
import { backupFileName } from './backup-name.ts';
import { runPgProgram } from './pg-tools.ts';
import { restoreServer, restoreServerInto } from './pg-restore.ts';

/** `variable`: the environment variable the URL came from, named when the server cannot be reached. */
export function openServer(url: string, environment: string, applicationName: string, variable?: string): Database {
  const label = redactUrl(url);
  const clients = new ClientSet();
  return {
    kind: 'url',
    label,
    async connect(options) {
      const pg = await loadPg();
      const client = clients.watch(new pg.Client({ connectionString: url, application_name: applicationName, pipeline: options?.pipeline === true }));
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
    async restore(file, keep) {
      await restoreServer(url, file, keep);
      // pg_restore committed: the environment's database is the restored one already.
      const client = await this.connect();
      return { client, keptInPlace: keep !== null, replaced: true, commit: () => Promise.resolve(), abandon: () => client.end() };
    },
    async restoreInto(file, into, marks) {
      const client = await this.connect();
      try {
        return await restoreServerInto(url, client, file, into, marks);
      } finally {
        await client.end().catch(cleanupFailed('closing a database connection'));
      }
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

/** pg_dump in custom format: what `rollout restore` reads back with pg_restore. */
async function runPgDump(url: string, file: string): Promise<void> {
  try {
    await runPgProgram('pg_dump', ['--format=custom', `--file=${file}`], url, 'pg_dump');
  } catch (error) {
    // "pg_dump is not installed" says nothing about why it was run, nor the other way out (newcomer mistake 37).
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw error;
    throw new UserError(
      'migrations.backup is set, but pg_dump is not on PATH, so no backup was taken and nothing was migrated. Install the PostgreSQL client tools (pg_dump of the server\'s major version or newer, e.g. apt-get install postgresql-client), or remove migrations.backup from the environment file.',
      { cause: error },
    );
  }
}
