/**
 * The SQL parser is 1.7 MB of WebAssembly. By default V8 runs it on its baseline compiler
 * (Liftoff) and recompiles hot functions with its optimising compiler on background threads,
 * and Node does not exit until those jobs finish: after two small migration files the plan
 * step had finished its work and then waited 0.1–0.7 s (measured on 2 cores) for code it
 * would never run. Baseline code alone parsed 3,200 files as fast as tiered code did
 * (bench notes in bench/RESULTS.md, "Plan action cold start"), so an action, which is one
 * short process, stays on it. The actions have no other WebAssembly: the embedded database
 * is not bundled into them (scripts/build.mjs).
 */
import { setFlagsFromString } from 'node:v8';

let set = false;
/** Call before the parser is loaded; V8 reads the flag when it compiles a module. */
export function baselineWasmOnly(): void {
  if (set) return;
  set = true;
  setFlagsFromString('--liftoff-only');
}
