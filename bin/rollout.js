#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build` (run by `npm ci` via `prepare`).
// The Node version is checked before the bundle loads: on an older Node it would fail on a
// missing API with a stack trace instead of saying what to install. Keep it equal to
// package.json's engines.node (test/cli/node-version.test.ts compares them).
const MINIMUM = [20, 19];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(`error: rollout needs Node.js ${MINIMUM.join('.')} or newer; this is Node.js ${process.versions.node}. Install a newer Node.js (e.g. \`nvm install 22\`) and run it again.\n`);
  process.exit(1);
}
// Node 22.1+ keeps V8's compiled code of the bundle between runs (in the OS temp folder;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): most of a short command's start-up is compiling
// the bundle. Node 20 has no such cache, and then nothing changes.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
await import('../dist/cli.js');
