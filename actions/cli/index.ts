// The `rollout` executable: everything else lives in main.ts so tests can call runCli directly.
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, process.env);
