/** `rollout … | head`: a reader that goes away ends nothing but the output (issue 13, defect 7). */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';

let root: string | undefined;
afterEach(() => (root ? rm(root, { recursive: true, force: true }) : undefined));

it("a closed stdout ends the command quietly: no EPIPE stack trace, the command's own exit code", { timeout: 60_000 }, async () => {
  root = await mkdtemp(join(tmpdir(), 'rollout-epipe-'));
  await mkdir(join(root, 'environments'));
  // Enough output that it cannot all fit in the pipe before the reader closes it.
  const flags = Array.from({ length: 4000 }, (_, i) => `  unknown_key_${i}: 1\n`).join('');
  await writeFile(join(root, 'environments', 'local.yaml'), `version: 1\ndatabase:\n  embedded: .rollout/db\nflags: {}\n${flags}`);
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('actions/cli/index.ts'), '--root', root, 'validate'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Read one chunk, then go away as `head -1` does.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((done) => child.once('close', done));
  expect(stderr).not.toMatch(/EPIPE|Error:|at .*\.js:\d+/);
  expect(code).toBe(1); // validate's own verdict (the file has errors), not a crash
});
