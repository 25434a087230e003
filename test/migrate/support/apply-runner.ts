/**
 * A real `migrate apply` in its own process, for the concurrency and crash tests:
 *   node --import tsx test/migrate/support/apply-runner.ts '<json>'
 * Prints one JSON line per progress event and a final {"result": …} line.
 * Exit code: 0 applied (or nothing to do), 1 a user-facing error (message printed, no stack).
 */
import { lockEnvironment, openDatabase } from '../../../actions/engine/db/index.ts';
import { applyMigrations } from '../../../actions/engine/migrate/index.ts';
import { UserError } from '../../../actions/engine/errors.ts';
import type { DatabaseSpec, MigrationSettings } from '../../../actions/engine/config/model.ts';
import { testEnvironment } from '../../support/databases.ts';

interface RunnerInput {
  root: string;
  database: DatabaseSpec;
  migrations: MigrationSettings;
  processEnv: NodeJS.ProcessEnv;
}

const input = JSON.parse(process.argv[2] ?? '{}') as RunnerInput;
const env = testEnvironment(input.database, { migrations: input.migrations });
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

try {
  const db = await openDatabase(env, { root: input.root, processEnv: input.processEnv, applicationName: `rollout test runner ${process.pid}` });
  try {
    const client = await db.connect();
    const release = await lockEnvironment(client, env.name, env.migrations.advisoryLock);
    try {
      const report = await applyMigrations(client, { root: input.root, env, processEnv: input.processEnv }, {
        onProgress: (event) => print({ event: event.kind, file: event.migration.file.name }),
      });
      print({ result: 'ok', applied: report.applied.map((a) => a.file.name) });
    } finally {
      await release();
    }
  } finally {
    await db.close();
  }
} catch (error) {
  if (!(error instanceof UserError)) throw error;
  print({ result: 'error', name: error.name, message: error.message });
  process.exitCode = 1;
}
