/**
 * Test-only crash points. `failpoint(name)` kills this process with SIGKILL — no cleanup, no
 * `finally`, exactly what a crash or an OOM kill leaves — when ROLLOUT_TEST_FAILPOINT names it,
 * so that a test can stage a crash at a boundary that no outside signal could hit reliably
 * (test/restore/restore-crash.test.ts). Honoured only when the test runner's own switch
 * (VITEST, which Vitest sets in its workers and their children) is set as well, so that a
 * stray variable in a user's shell can never kill a real restore. Read from process.env
 * directly: a hook for tests is not an input the commands take.
 */
export function failpoint(name: string): void {
  if (process.env.VITEST && process.env.ROLLOUT_TEST_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
