/**
 * Cleanup failures are warnings: a ROLLBACK, an advisory unlock, a client.end() or a lock
 * file removal that fails never replaces the error that made us clean up, and never stops
 * the command — but it is never silent either, because it can mean a connection left in a
 * transaction or a lock left held. The adapters route warnings to where users read them
 * (the CLI's stderr, the runner's ::warning::), through their secret scrubbing.
 */
import { toError } from './errors.ts';

export type WarningSink = (message: string) => void;

const toStderr: WarningSink = (message) => void process.stderr.write(`rollout: warning: ${message}\n`);
let sink: WarningSink = toStderr;

/** Send cleanup warnings to `next` until the returned function restores the previous sink. */
export function reportCleanupWarningsTo(next: WarningSink): () => void {
  const previous = sink;
  sink = next;
  return () => {
    sink = previous;
  };
}

/** A `.catch` handler for a cleanup step: reports `what` failed, and why, as a warning. */
export function cleanupFailed(what: string): (thrown: unknown) => void {
  return (thrown) => sink(`${what} failed during cleanup: ${toError(thrown).message}`);
}

/** A warning that is no failure (something found and put right on the way): the same sink, as it is said. */
export function warn(message: string): void {
  sink(message);
}
