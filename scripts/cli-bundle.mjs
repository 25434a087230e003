// How the CLI is bundled, shared by scripts/build.mjs and the benchmarks that build parts of it.
/**
 * The CLI bundles its pure-JavaScript dependencies: resolving and compiling ~150 separate
 * package files cost every command ~40 ms of start-up. Packages that find files next to
 * their own code (PGlite's WASM and data, libpg-query's WASM, squawk's binary) stay external,
 * as do optional native add-ons.
 */
export const CLI_EXTERNAL = ['@electric-sql/*', 'libpg-query', 'squawk-cli', 'pg-native', 'pg-cloudflare'];

/** Bundled CommonJS packages require Node's built-in modules. */
export const CLI_BANNER = { js: "import { createRequire as __rolloutCreateRequire } from 'node:module'; const require = __rolloutCreateRequire(import.meta.url);" };
