// The README's main command: the pipeline's main job on the embedded database.
// Every step runs the real CLI (bin/rollout.js) on a scratch copy of this repository,
// so the demo never changes your checkout and always starts from an empty database.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin/rollout.js');

function step(title, args, { expectExit = 0 } = {}) {
  console.log(`\n\u001b[1m── ${title}\u001b[0m\n$ rollout ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } });
  if (run.status !== expectExit) {
    console.error(`demo: expected exit ${expectExit} from 'rollout ${args.join(' ')}', got ${run.status}`);
    process.exit(1);
  }
}

function scratchCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-demo-'));
  for (const entry of ['environments', 'contracts', 'migrations', 'checks', 'rollout.yaml']) {
    try {
      cpSync(join(root, entry), join(dir, entry), { recursive: true });
    } catch {
      // optional entries
    }
  }
  return dir;
}

function edit(file, from, to) {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`demo: cannot find ${JSON.stringify(from)} in ${file}`);
  writeFileSync(file, text.replace(from, to));
}

const work = scratchCopy();
const broken = scratchCopy();
try {
  const local = join(work, 'environments/local.yaml');
  step('1. Validate every environment', ['--root', work, 'validate']);

  const staging = join(broken, 'environments/staging.yaml');
  edit(staging, 'epsilon: 0.08 }\n    off_value:', 'epsilon: 1.5 }\n    off_value:');
  edit(staging, 'rollout: { stage: canary, percent: 25 }', 'rollout: { stage: canarie, percent: 25 }');
  edit(staging, 'promotes_to: production', 'promotes_to: prod');
  edit(staging, 'url_env: STAGING_DATABASE_URL', 'url_env: postgres://app:hunter2@db.internal/app');
  edit(staging, 'flag_store:', 'flag_stor:');
  step('2. A broken staging file: every problem at once, with file:line:column and the fix (the password is masked)', ['--root', broken, 'validate'], { expectExit: 1 });

  step('3. Plan the local environment (embedded Postgres, created on first use)', ['--root', work, 'plan', '--env', 'local']);
  step('4. Apply it: migrations, then flags and their ledger entry in one transaction', ['--root', work, 'apply', '--env', 'local']);
  step('5. Status: desired vs live, stages, the ledger', ['--root', work, 'status', '--env', 'local']);
  step('6. Apply again: nothing to do, it converges', ['--root', work, 'apply', '--env', 'local']);

  edit(local, 'value: { version: epsilon_greedy_v1, epsilon: 0.08 }', 'value: { version: epsilon_greedy_v2, epsilon: 0.05 }');
  edit(
    local,
    'value: { enabled: false }\n    off_value: { enabled: false }\n    contract: toggle\n    rollout: { stage: off }',
    'value: { enabled: true }\n    off_value: { enabled: false }\n    contract: toggle\n    rollout: { stage: dark, segments: [internal] }',
  );
  edit(local, '\nflags:\n', '\nsegments:\n  internal: { attributes: { email_domain: [example.com] } }   # who sees a dark flag\nflags:\n');
  step('7. A PR changes the ranker policy and moves crush mode to dark for internal users: the second plan, with who it reaches', ['--root', work, 'plan', '--env', 'local']);
  step('8. The same plan as the markdown a PR comment shows', ['--root', work, 'plan', '--env', 'local', '--format', 'markdown']);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(broken, { recursive: true, force: true });
}
console.log('\ndemo: done');
