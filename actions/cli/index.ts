// The `rollout` executable: everything else lives in main.ts so tests can call runCli directly.
import { runCli } from './main.ts';
import { closableStreams } from './streams.ts';
import { baselineWasmOnly } from '../engine/wasm-tiering.ts';

// One short process: its WebAssembly (the parser, the embedded database) stays on baseline code (see wasm-tiering.ts).
baselineWasmOnly();
process.exitCode = await runCli(process.argv.slice(2), closableStreams(process.stdout, process.stderr), process.env);
