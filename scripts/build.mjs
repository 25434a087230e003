// One multi-entry build: the CLI now, one entry per GitHub Action later.
// Dependencies stay external for the CLI: PGlite loads its WASM relative to its own files.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'actions/cli/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
