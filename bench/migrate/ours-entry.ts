/**
 * This tool as the benchmark runs it: a bundled process that opens the database, takes
 * the environment lock and applies the history, exactly the calls `rollout migrate apply` makes.
 * The benchmark runs the real command; this entry is what BENCH_BASELINE_REF builds from an
 * older commit, to compare the migrator before and after a change in the same run.
 *   node ours.mjs <root> <migrations-dir> <url>
 */
import { lockEnvironment, openDatabase } from '../../actions/engine/db/index.ts';
import { applyMigrations } from '../../actions/engine/migrate/index.ts';
import { DEFAULT_MIGRATION_SETTINGS, type Environment } from '../../actions/engine/config/model.ts';

const [root = '.', directory = 'migrations', url = ''] = process.argv.slice(2);
const env: Environment = {
  name: 'bench',
  file: 'environments/bench.yaml',
  database: { kind: 'url', urlEnv: 'BENCH_URL' },
  migrations: { ...DEFAULT_MIGRATION_SETTINGS, directory },
  flags: new Map(),
  checks: [],
  monitors: [],
};
const processEnv = { ...process.env, BENCH_URL: url };
const db = await openDatabase(env, { root, processEnv });
try {
  const client = await db.connect();
  const release = await lockEnvironment(client, env.name, env.migrations.advisoryLock);
  const report = await applyMigrations(client, { root, env, processEnv });
  await release();
  process.stdout.write(`applied ${report.applied.length}\n`);
} finally {
  await db.close();
}
