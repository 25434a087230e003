/** Run the CLI in-process (as `rollout …` would) and capture what it prints. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../actions/cli/main.ts';
import type { TestDatabase } from './databases.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    args,
    { stdout: { write: (s: string) => (stdout += s), isTTY: false }, stderr: { write: (s: string) => (stderr += s) } },
    { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  );
  return { code, stdout, stderr };
}

/** The `database:` block that points an environment file at a test database. */
export function databaseYaml(db: TestDatabase): string {
  const spec = db.env.database;
  return spec.kind === 'embedded' ? `database:\n  embedded: ${spec.dir}\n` : spec.kind === 'url' ? `database:\n  url_env: ${spec.urlEnv}\n` : '';
}

/** Write environments/<name>.yaml in the test repository: version and database, then `body`. */
export async function writeEnvironment(db: TestDatabase, body: string, name = 'test'): Promise<void> {
  await mkdir(join(db.root, 'environments'), { recursive: true });
  await mkdir(join(db.root, 'migrations'), { recursive: true });
  await writeFile(join(db.root, 'environments', `${name}.yaml`), `version: 1\n${databaseYaml(db)}${body}`);
}

/** Run the CLI on a test database's repository. */
export function cliOn(db: TestDatabase, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return cli(['--root', db.root, ...args], { ...db.processEnv, ...extraEnv });
}
