/**
 * Keep WebAssembly on V8's baseline compiler (Liftoff) in a short process: the CLI and each
 * action. By default V8 recompiles hot functions with its optimising compiler (TurboFan) on
 * background threads, and Node does not exit until those jobs finish.
 *
 * - The SQL parser is 1.7 MB of WebAssembly: after two small migration files the plan action
 *   had finished its work and then waited 0.1–0.7 s (measured on 2 cores) for code it would
 *   never run. Baseline code alone parsed 3,200 files as fast as tiered code did (bench notes
 *   in bench/RESULTS.md, "Plan action cold start").
 * - The embedded database (PGlite) is Postgres compiled to WebAssembly: applying the
 *   150-file real-shaped history (bench/migrate/real.ts) spent 1.6 s of CPU on its background
 *   threads recompiling Postgres, more than the 1.2 s the database thread itself ran, and on
 *   2 cores that competes with the one thread that does the work. On baseline code alone the
 *   same run took 1.5 s of CPU instead of 3.1 s (docs/migrations.md, "Embedded database (PGlite) notes").
 *
 * The price is a statement that computes for seconds (a large backfill on the embedded
 * database) runs on slower code; a process that lives long (a test runner, a service) does
 * not call this.
 */
import { setFlagsFromString } from 'node:v8';

let set = false;
/** Call before any WebAssembly is compiled; V8 reads the flag when it compiles a module. */
export function baselineWasmOnly(): void {
  if (set) return;
  set = true;
  setFlagsFromString('--liftoff-only');
}

/**
 * Compile with the baseline compiler only, then restore V8's default tiering unless the whole
 * process keeps baseline code (baselineWasmOnly): the SQL parser in a long-running process
 * (a test runner, a service using the engine) compiles on Liftoff without turning the flag off
 * under the CLI, whose embedded database may compile after the parser.
 */
export async function onBaselineCompiler<T>(compile: () => Promise<T>): Promise<T> {
  setFlagsFromString('--liftoff-only');
  try {
    return await compile();
  } finally {
    if (!set) setFlagsFromString('--no-liftoff-only');
  }
}
