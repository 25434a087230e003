/**
 * The process's output as the CLI writes it. A reader that goes away (`rollout status | head`)
 * closes the pipe: Node then reports EPIPE as an unhandled 'error' event, a stack trace that
 * ends the process wherever it was — possibly between a commit and the lines saying so. Here
 * a closed output is dropped quietly and the command runs to its end (issue 13, defect 7).
 */
import type { Streams } from './context.ts';

interface Writable {
  write(text: string): unknown;
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
  isTTY?: boolean;
}

export function closableStreams(stdout: Writable, stderr: Writable): Streams {
  return { stdout: closable(stdout), stderr: closable(stderr) };
}

function closable(stream: Writable): Streams['stdout'] {
  let closed = false;
  stream.on('error', (error) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw error;
  });
  return {
    write: (text: string) => (closed ? true : stream.write(text)),
    ...(stream.isTTY !== undefined ? { isTTY: stream.isTTY } : {}),
  };
}
