// The README's main command: the pipeline's main job on the embedded database.
// Every step is the real CLI (bin/rollout.js) on this repository.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin/rollout.js');

function step(title, args, { expectExit = 0, cwd = root } = {}) {
  console.log(`\n\u001b[1m── ${title}\u001b[0m\n$ rollout ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [cli, ...args], { cwd, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  if (run.status !== expectExit) {
    console.error(`demo: expected exit ${expectExit} from 'rollout ${args.join(' ')}', got ${run.status}`);
    process.exit(1);
  }
}

step('1. Validate every environment of this repository', ['validate']);

// A copy of the repository with a broken staging file, to show what validate reports.
const broken = mkdtempSync(join(tmpdir(), 'rollout-demo-'));
try {
  for (const dir of ['environments', 'contracts', 'migrations']) cpSync(join(root, dir), join(broken, dir), { recursive: true });
  const staging = join(broken, 'environments/staging.yaml');
  writeFileSync(
    staging,
    readFileSync(staging, 'utf8')
      .replace('epsilon: 0.08 }\n    contract: ranker-policy\n    owner: "@ranking"\n    rollout: { stage: canary, percent: 25 }', 'epsilon: 1.5 }\n    contract: ranker-policy\n    owner: "@ranking"\n    rollout: { stage: canarie, percent: 25 }')
      .replace('promotes_to: production', 'promotes_to: prod')
      .replace('url_env: STAGING_DATABASE_URL', 'url_env: postgres://app:hunter2@db.internal/app')
      .replace('flag_store:', 'flag_stor:'),
  );
  step('2. A broken staging file: every problem at once, with file:line:column and the fix', ['validate', '--root', broken], { expectExit: 1 });
} finally {
  rmSync(broken, { recursive: true, force: true });
}
console.log('\ndemo: done');
