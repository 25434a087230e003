/**
 * `rollout init`: the files a repository starts with. scaffoldFiles is pure (names in, files
 * out); writeNewFiles is the edge, and never replaces a file that exists.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.ts';
import { callerWorkflows } from './workflows.ts';
import { isSupabaseHistory } from '../db/platform-supabase.ts';

export interface ScaffoldOptions {
  /** Server environments to create besides `local`, upstream first (each promotes to the next). */
  environments: readonly string[];
  /** Repository-relative folder of existing migrations, when there is one. */
  migrations?: string;
  /** Write the caller workflows (when there is a server environment). */
  workflows: boolean;
  repository: string;
  tag: string;
  branch: string;
  /** Where the workflows go relative to the repository root, and the root's path from there. */
  workflowsAt: { dir: string; root: string };
}

export interface ScaffoldFile {
  path: string;
  content: string;
}

const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function scaffoldFiles(options: ScaffoldOptions): ScaffoldFile[] {
  const names = [...options.environments];
  for (const name of names) {
    if (!ENVIRONMENT_NAME.test(name)) throw new UsageError(`Invalid environment name '${name}'. Expected lower-case letters, digits, - and _, starting with a letter or digit, e.g. staging.`);
    if (name === 'local') throw new UsageError("'local' is the embedded environment init always writes; name the server environments, e.g. --env staging --env production.");
  }
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new UsageError(`Environment '${duplicate}' is named twice; name each once, upstream first (--env staging --env production).`);
  const files: ScaffoldFile[] = [
    { path: 'rollout.yaml', content: ROLLOUT_YAML },
    { path: 'environments/local.yaml', content: environmentFile({ name: 'local', migrations: options.migrations }) },
    ...names.map((name, i) => ({ path: `environments/${name}.yaml`, content: environmentFile({ name, migrations: options.migrations, promotesTo: names[i + 1] }) })),
    { path: 'contracts/toggle.schema.json', content: TOGGLE_CONTRACT },
    { path: '.gitignore', content: '# rollout: embedded databases and backups\n.rollout/\n' },
  ];
  if (!options.migrations) files.push({ path: 'migrations/.gitkeep', content: '' });
  if (options.workflows && names.length > 0) {
    const production = names.includes('production') ? 'production' : names.length > 1 ? names.at(-1) : undefined;
    const workflows = callerWorkflows({
      repository: options.repository,
      tag: options.tag,
      branch: options.branch,
      environments: names,
      root: options.workflowsAt.root,
      migrations: options.migrations ?? 'migrations',
      ...(production ? { production } : {}),
    });
    files.push(...workflows.map((w) => ({ path: join(options.workflowsAt.dir, w.path).split('\\').join('/'), content: w.content })));
  }
  return files;
}

/** The URL variables of a server environment: <NAME>_DATABASE_URL and its read-only twin. */
export function urlVariables(name: string): { urlEnv: string; readonlyUrlEnv: string } {
  const stem = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return { urlEnv: `${stem}_DATABASE_URL`, readonlyUrlEnv: `${stem}_READONLY_DATABASE_URL` };
}

function environmentFile(options: { name: string; migrations: string | undefined; promotesTo?: string }): string {
  const { name } = options;
  const lines = ['# yaml-language-server: $schema=../node_modules/rollout/contracts/environment.schema.json', '#'];
  if (name === 'local') {
    lines.push(
      '# Your machine: an embedded Postgres (PGlite) in .rollout/local, nothing to install.',
      '# Try: rollout plan --env local, then rollout apply --env local.',
      'version: 1',
      'description: Local development on an embedded database.',
      '',
      'database:',
      '  embedded: .rollout/local        # a data directory; keep .rollout/ out of Git',
    );
    if (options.migrations !== undefined && isSupabaseHistory(options.migrations)) {
      lines.push("  platform: supabase              # found supabase/migrations: stand-ins for Supabase's auth, storage, roles and extensions schema");
    }
  } else {
    const { urlEnv, readonlyUrlEnv } = urlVariables(name);
    lines.push(
      `# ${name}: a database server. The file names the secrets that hold its URLs, never a URL:`,
      `# ${urlEnv} (the writer: migrations and flags) and ${readonlyUrlEnv} (a role`,
      '# with SELECT only, all that pull requests ever get). See docs/github.md of rollout.',
      'version: 1',
      `description: ${name.charAt(0).toUpperCase()}${name.slice(1)}.`,
      '',
      'database:',
      `  url_env: ${urlEnv}`,
      `  readonly_url_env: ${readonlyUrlEnv}`,
    );
    if (options.promotesTo) lines.push('', `promotes_to: ${options.promotesTo}          # what ${name} soaked reaches ${options.promotesTo} by a promotion PR`);
  }
  if (options.migrations) lines.push('', 'migrations:', `  directory: ${options.migrations}   # found here by rollout init`);
  lines.push(
    '',
    '# flag_store:',
    '#   table: public.feature_flags   # a table your services already read (default: rollout.flags)',
    '',
    'flags: {}',
    '# A flag, typed by the starter contract contracts/toggle.schema.json:',
    '#   checkout.new_flow:',
    '#     value: { enabled: true }     # what units in the rollout get',
    '#     off_value: { enabled: false } # what every other unit gets (and the flag table holds until full)',
    '#     contract: toggle',
    '#     rollout: { stage: off }      # off → dark → shadow → canary → full',
    '',
  );
  return lines.join('\n');
}

const ROLLOUT_YAML = `# Settings every environment of this repository shares (optional; without it the defaults apply).
version: 1
# The rollout ladder: off → dark → shadow → canary steps → full. The defaults:
# ladder:
#   canary_steps: [5, 25, 50, 100]
#   skip: []                     # e.g. [shadow]
#   soak: { dark: 1h, shadow: 1h, canary: 1d }
`;

const TOGGLE_CONTRACT = `${JSON.stringify(
  {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Toggle',
    description: 'An on/off feature: {"enabled": true|false}.',
    type: 'object',
    required: ['enabled'],
    additionalProperties: false,
    properties: { enabled: { type: 'boolean' } },
  },
  null,
  2,
)}\n`;

export interface WriteReport {
  created: string[];
  /** Files that existed: left exactly as they were. */
  skipped: string[];
}

/** Write each file that does not exist yet; an existing one is skipped, never replaced. */
export function writeNewFiles(root: string, files: readonly ScaffoldFile[]): WriteReport {
  const report: WriteReport = { created: [], skipped: [] };
  for (const file of files) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    try {
      // wx: fail if it exists, atomically (O_EXCL), rather than check and then write.
      writeFileSync(path, file.content, { flag: 'wx' });
      report.created.push(file.path);
    } catch (thrown) {
      if ((thrown as NodeJS.ErrnoException).code !== 'EEXIST') throw thrown;
      report.skipped.push(file.path);
    }
  }
  return report;
}

/** Whether the repository's .gitignore keeps the embedded data out of Git. */
export function ignoresRolloutData(root: string): boolean {
  try {
    return readFileSync(join(root, '.gitignore'), 'utf8').split(/\r?\n/).some((line) => /^\/?\.rollout\/?(\*\*?)?$/.test(line.trim()));
  } catch {
    return false;
  }
}
