// One multi-entry build: the CLI, and one entry per GitHub Action.
// The CLI bundles its pure-JavaScript dependencies (scripts/cli-bundle.mjs); PGlite, which
// loads its WASM relative to its own files, and the other packages with files stay external.
// The actions are bundled whole (they run from a checkout, without node_modules) into
// dist/actions/, which is committed. `node scripts/build.mjs` (npm's prepare) builds the CLI
// only, so that an install never rewrites the committed bundles and the freshness check
// (test/actions/dist-fresh.test.ts) still sees what was committed; `--actions` builds both;
// `--actions-only --outdir DIR` builds the actions elsewhere, for that check.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CLI_BANNER, CLI_EXTERNAL } from './cli-bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ACTIONS = ['validate', 'plan', 'apply', 'verify', 'promote', 'health', 'fleet'];
/** The platform of GitHub's hosted Linux runners, whose squawk binary the action bundles ship. */
const SQUAWK_PLATFORM = 'linux-x64';

const args = process.argv.slice(2);
const actionsOnly = args.includes('--actions-only');
const withActions = actionsOnly || args.includes('--actions');
const outIndex = args.indexOf('--outdir');
const actionsOut = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(root, 'dist', 'actions');

if (!actionsOnly) {
  // Chunk names carry content hashes: clear the old ones so that dist/ holds one build.
  rmSync(join(root, 'dist', 'cli-chunks'), { recursive: true, force: true });
  await build({
    entryPoints: { cli: join(root, 'actions/cli/index.ts') },
    outdir: join(root, 'dist'),
    bundle: true,
    // Commands are imported on demand; splitting keeps each in its own chunk.
    splitting: true,
    chunkNames: 'cli-chunks/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: CLI_EXTERNAL,
    banner: CLI_BANNER,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  // The embedded database's worker is loaded by file name, as it is (actions/engine/db/embedded.ts).
  copyFileSync(join(root, 'actions/engine/db/embedded-host.js'), join(root, 'dist', 'cli-chunks', 'embedded-host.js'));
}

/**
 * Actions talk to real servers only (database.url_env): the embedded database (PGlite, whose
 * WASM and data files cannot be bundled) is replaced by a stub that says so.
 */
const noEmbeddedDatabase = {
  name: 'no-embedded-database',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/embedded\.ts$/ }, (args) => (args.importer.endsWith(join('db', 'open.ts')) ? { path: 'embedded-stub', namespace: 'rollout-stub' } : undefined));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'rollout-stub' }, () => ({
      resolveDir: join(root, 'actions/engine/db'),
      loader: 'ts',
      contents: `import { UserError } from '../errors.ts';
export async function openEmbedded(): Promise<never> {
  throw new UserError('This environment uses the embedded database, which exists only on your machine. In GitHub Actions, set database: { url_env: NAME } and pass the URL as a secret in env:.');
}`,
    }));
  },
};

if (withActions) await buildActions();

async function buildActions() {
/**
 * @actions/core imports its OIDC client (and with it an HTTP stack, undici) at load time,
 * though only getIDToken uses it: load it when called, so a step that never asks for a token
 * (validate) starts without parsing ~500 KB it does not run.
 */
const lazyOidc = {
  name: 'lazy-oidc',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/oidc-utils\.js$/ }, (args) =>
      args.kind === 'dynamic-import' || !args.importer.includes(join('@actions', 'core')) ? undefined : { path: join(args.resolveDir, 'oidc-utils.js'), namespace: 'lazy-oidc' },
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-oidc' }, (args) => ({
      resolveDir: dirname(args.path),
      contents: `export class OidcClient {
  static async getIDToken(audience) {
    const { OidcClient: Real } = await import('./oidc-utils.js');
    return Real.getIDToken(audience);
  }
}`,
    }));
  },
};

/**
 * The yaml library (the positioned parser, ~115 KB) is needed only when a file takes the full
 * parse (a problem to place, anchors, tags) or is edited (promote, adopt): clean files are read
 * by js-yaml (config/yaml-source.ts). Its import becomes functions that load it on first call,
 * so that a plan of clean files neither compiles nor evaluates it. Our code imports only
 * functions from it (a new name fails the build here: add it to the list).
 */
const YAML_FUNCTIONS = ['isAlias', 'isCollection', 'isMap', 'isPair', 'isScalar', 'isSeq', 'parseDocument', 'stringify'];
const lazyYaml = {
  name: 'lazy-yaml',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^yaml$/ }, (args) => (args.namespace === 'lazy-yaml' ? undefined : { path: 'yaml', namespace: 'lazy-yaml' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-yaml' }, () => ({
      resolveDir: root,
      // esbuild turns require() of a bundled CommonJS package into a call of its module wrapper: evaluated then, not at start.
      contents: ['let yaml;', "const load = () => (yaml ??= require('yaml'));", ...YAML_FUNCTIONS.map((name) => `export const ${name} = (...args) => load().${name}(...args);`)].join('\n'),
    }));
  },
};

/**
 * @actions/github sends its requests through the undici it bundles (~415 KB), so as to pass
 * them through a proxy (HTTPS_PROXY) with undici's ProxyAgent from @actions/http-client; the
 * plan action paid ~90 ms of CPU to compile and evaluate it for every PR comment. Without a
 * proxy (no dispatcher) the request is the same through Node's own fetch (undici too, built
 * into Node), and the bundled undici, in a chunk of its own, is imported only when a proxy is
 * configured: the agent is then made at the first request, with the arguments it was given.
 */
const lazyUndici = {
  name: 'lazy-undici',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^undici$/ }, (args) =>
      args.namespace === 'lazy-undici' || !args.importer.includes(join('node_modules', '@actions')) ? undefined : { path: 'undici', namespace: 'lazy-undici' },
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-undici' }, () => ({
      resolveDir: root,
      contents: `export class ProxyAgent {
  constructor(...args) {
    this.args = args;
  }
}
export async function fetch(url, options) {
  const dispatcher = options?.dispatcher;
  if (!dispatcher) return globalThis.fetch(url, options);
  // CommonJS: its module.exports is the namespace's default.
  const { default: undici } = await import('undici');
  const agent = dispatcher instanceof ProxyAgent ? (dispatcher.agent ??= new undici.ProxyAgent(...dispatcher.args)) : dispatcher;
  return undici.fetch(url, { ...options, dispatcher: agent });
}`,
    }));
  },
};

rmSync(actionsOut, { recursive: true, force: true });
mkdirSync(actionsOut, { recursive: true });
await build({
  entryPoints: Object.fromEntries(ACTIONS.map((verb) => [verb, join(root, `actions/${verb}/main.ts`)])),
  outdir: actionsOut,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // ESM builds first: libpg-query's CommonJS build does not expose loadModule to an ESM import.
  mainFields: ['module', 'main'],
  legalComments: 'none',
  external: ['@electric-sql/*', 'pg-native'],
  plugins: [noEmbeddedDatabase, lazyOidc, lazyYaml, lazyUndici],
  // CommonJS dependencies call require() for Node built-ins, and libpg-query finds its WASM by __dirname.
  banner: {
    js: [
      "import { createRequire as __rolloutCreateRequire } from 'node:module';",
      "import { dirname as __rolloutDirname } from 'node:path';",
      "import { fileURLToPath as __rolloutFileURLToPath } from 'node:url';",
      'const require = __rolloutCreateRequire(import.meta.url);',
      'const __filename = __rolloutFileURLToPath(import.meta.url);',
      'const __dirname = __rolloutDirname(__filename);',
    ].join(' '),
  },
  logLevel: 'warning',
});
// The SQL parser loads its WASM from next to the script that loaded it.
const requireFromRoot = createRequire(join(root, 'package.json'));
copyFileSync(join(dirname(requireFromRoot.resolve('libpg-query')), 'libpg-query.wasm'), join(actionsOut, 'chunks', 'libpg-query.wasm'));
shipSquawk(requireFromRoot);
}

/**
 * The migration linter is a native binary (there is no WASM or JavaScript build of squawk):
 * ship the one GitHub's hosted runners need (linux-x64) next to the chunks, where lint.ts looks
 * first, with its licence notice. Other platforms use squawk-cli from node_modules when present.
 */
function shipSquawk(requireFromRoot) {
  const launcher = requireFromRoot.resolve('squawk-cli/package.json');
  const { version, license } = JSON.parse(readFileSync(launcher, 'utf8'));
  let binary;
  try {
    binary = createRequire(launcher).resolve(`@squawk-cli/${SQUAWK_PLATFORM}/bin/squawk`);
  } catch (cause) {
    throw new Error(`@squawk-cli/${SQUAWK_PLATFORM} is not installed: the action bundles ship its binary, so build them on linux-x64 (npm ci there installs it).`, { cause });
  }
  const { version: binaryVersion } = JSON.parse(readFileSync(join(dirname(binary), '..', 'package.json'), 'utf8'));
  if (binaryVersion !== version) throw new Error(`@squawk-cli/${SQUAWK_PLATFORM} ${binaryVersion} does not match squawk-cli ${version}: run npm ci.`);
  const dir = join(actionsOut, 'chunks', 'squawk', SQUAWK_PLATFORM);
  mkdirSync(dir, { recursive: true });
  copyFileSync(binary, join(dir, 'squawk'));
  chmodSync(join(dir, 'squawk'), 0o755);
  writeFileSync(
    join(dir, 'NOTICE'),
    `squawk ${version} (https://github.com/sbdchd/squawk), the Postgres migration linter, as published on npm as @squawk-cli/${SQUAWK_PLATFORM}.\nLicence: ${license}. Copyright Squawk Team & Contributors.\n`,
  );
}
