import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import type { Environment } from '../config/model.ts';
import type { Database, OpenDatabaseOptions } from './database.ts';
import { connectionUrl } from './connection-url.ts';
import { openServer } from './server.ts';

/** Open the database an environment names. The caller must `close()` it. */
export async function openDatabase(env: Environment, opts: OpenDatabaseOptions): Promise<Database> {
  const applicationName = opts.applicationName ?? `rollout ${env.name}`;
  const spec = env.database;
  if (spec.kind === 'embedded') {
    // PGlite is large (WASM Postgres): load it only for an environment that uses it.
    const [{ openEmbedded }, { historyExtensions }, supabase] = await Promise.all([
      import('./embedded.ts'),
      import('../migrate/history-extensions.ts'),
      spec.platform === 'supabase' ? import('./platform-supabase.ts') : undefined,
    ]);
    // PGlite loads extension bundles only when it opens: those the history creates, before it runs (and the platform's).
    const extensions = await historyExtensions(opts.root, env.migrations.directory);
    const platform = supabase
      ? { searchPath: supabase.SUPABASE_SEARCH_PATH, sql: supabase.supabasePlatformSql(), shareFiles: supabase.supabaseStandInExtensionFiles() }
      : undefined;
    return openEmbedded(
      resolve(opts.root, spec.dir),
      env.name,
      applicationName,
      opts.wait ?? env.migrations.advisoryLock,
      supabase ? [...new Set([...extensions, ...supabase.SUPABASE_EXTENSIONS])].sort() : extensions,
      platform,
    );
  }
  if (spec.kind === 'fleet') {
    throw new UserError(
      `${env.name} is a fleet (${env.file} lists targets, not one database). plan, apply and status act on the whole fleet; for one target, name it: --env ${env.name}/<target>.`,
    );
  }
  const url = opts.processEnv[spec.urlEnv];
  if (!url) {
    throw new UserError(
      `Environment variable ${spec.urlEnv} is not set. ${env.file} says the database URL of environment "${env.name}" is in ${spec.urlEnv}. ` +
        `Set it, e.g. export ${spec.urlEnv}=postgres://USER:PASSWORD@HOST:5432/DATABASE (in GitHub Actions: env: ${spec.urlEnv}: \${{ secrets.${spec.urlEnv} }}).`,
    );
  }
  const checked = connectionUrl(url, { variable: spec.urlEnv, file: env.file, environment: env.name });
  return openServer(checked, env.name, applicationName, spec.urlEnv);
}
