// The `rollout` executable: everything else lives in main.ts so tests can call runCli directly.
import { runCli } from './main.ts';
import { closableStreams } from './streams.ts';

process.exitCode = await runCli(process.argv.slice(2), closableStreams(process.stdout, process.stderr), process.env);
