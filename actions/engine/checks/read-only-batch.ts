/**
 * Many guarded queries in one READ ONLY transaction, pipelined on one connection: how
 * `rollout health` takes its monitors' measurements. One query at a time through
 * guard.ts runReadOnly costs four round trips each (BEGIN with its SET LOCALs, the query,
 * ROLLBACK with the session audit, DISCARD ALL); here a batch of N costs one BEGIN, N
 * queries each followed by ROLLBACK TO SAVEPOINT, one ROLLBACK, all written without waiting
 * for the answers (node-pg's pipeline mode), so the server never waits for us.
 *
 * Why this is as safe as one transaction per query, layer by layer (guard.ts numbers them):
 *
 * 1. The parser still reads every query's text before anything is sent (once per distinct
 *    text and deny list; its tree may come from an earlier run, parse-memo.ts, the rules are
 *    applied now); a refused query is never sent, the others of its batch still are.
 * 2. Each query is still its own extended-protocol message (guard.ts extendedProtocol): one
 *    statement, never two.
 * 3. The transaction is still `BEGIN … READ ONLY` with SET LOCAL statement_timeout,
 *    lock_timeout and idle_in_transaction_session_timeout, then SET LOCAL ROLE to the checks
 *    role, then SAVEPOINT. After each query, ROLLBACK TO SAVEPOINT undoes what the query did
 *    to the transaction, settings included: a view whose function calls set_config (role,
 *    statement_timeout, search_path — even with is_local false, which a subtransaction's
 *    rollback reverts too) leaves the next query as the first found it: the checks role, the
 *    same timeouts. It also ends a failed query's aborted state, so one failing monitor does
 *    not fail the ones after it. statement_timeout counts per statement: each query has all of it.
 * 4. Our own deadline is per query, counted from when the one before it answered; past it the
 *    connection is given up (the embedded database restarted) and the rest of the batch runs
 *    on a new one.
 * 5. What survives ROLLBACK (session advisory locks, prepared statements) is looked for once,
 *    at the end of the batch, and undone (DISCARD ALL on a session of its own). If there was
 *    any, the batch's queries are taken again one transaction each (runReadOnly), which names
 *    the query that did it; if that does not reproduce it, every query of the batch says so.
 *
 * What changes: the queries of a batch read one snapshot (REPEATABLE READ, taken by the
 * first), instead of one each; none can see an effect of another, as none has any (READ
 * ONLY, and each is rolled back before the next). A session-level leftover of one query (an
 * advisory lock it took) is held while the rest of its batch runs, which cannot use it to
 * write, and is undone and reported at the end as before.
 */
import { formatDuration } from '../config/duration.ts';
import { abandon, CheckTimeoutError, DEADLINE_GRACE_MS, extendedProtocol, runReadOnly, settle, SideEffectError, type CheckConnection, type ReadOnlyQuery } from './guard.ts';
import { assertReadOnlyStatement, RefusedQueryError } from './statement-guard.ts';
import { loadParser } from '../migrate/statements.ts';
import type { ParsedTexts } from './parse-memo.ts';

export type BatchQuery = Omit<ReadOnlyQuery, 'settings'>;

export type BatchOutcome<R> = { ok: true; rows: R[]; fields: string[]; durationMs: number } | { ok: false; error: unknown; durationMs: number };

type Answer = { ok: true; value: unknown } | { ok: false; error: unknown };

const SAVEPOINT = 'rollout_measurement';
const TIMED_OUT = Symbol('timed out');

/**
 * The parser's verdict per text, per deny list: the deny list is read once per run (guard.ts
 * CheckSetup) and shared by its connections, so a text is parsed once per run.
 */
const verdicts = new WeakMap<ReadonlySet<string>, Map<string, RefusedQueryError | null>>();

function refusalOf(text: string, denied: ReadonlySet<string>, parsed: ParsedTexts | undefined): RefusedQueryError | null {
  let known = verdicts.get(denied);
  if (!known) verdicts.set(denied, (known = new Map<string, RefusedQueryError | null>()));
  let verdict = known.get(text);
  if (verdict === undefined) {
    try {
      assertReadOnlyStatement(text, denied, parsed?.get(text));
      verdict = null;
    } catch (error) {
      if (!(error instanceof RefusedQueryError)) throw error;
      verdict = error;
    }
    known.set(text, verdict);
  }
  return verdict;
}

/**
 * Run `queries` through the guard in one transaction per connection, in order; one outcome
 * per query, never a throw for a query's failure. `connect` gives the connection to use, a
 * new one once the last is broken (a deadline passed), as the runners' connect does.
 */
export async function runReadOnlyBatch<R extends Record<string, unknown>>(
  connect: () => Promise<CheckConnection>,
  queries: readonly BatchQuery[],
  timeoutMs: number,
): Promise<BatchOutcome<R>[]> {
  const outcomes = new Array<BatchOutcome<R>>(queries.length);
  const failAll = (indexes: readonly number[], error: unknown): void => indexes.forEach((i) => (outcomes[i] = { ok: false, error, durationMs: 0 }));
  let connection: CheckConnection;
  try {
    connection = await connect();
  } catch (error) {
    failAll(queries.map((_, i) => i), error);
    return outcomes;
  }
  const { parsed } = connection.access;
  // A text without a tree at hand (the parser rejected it) is parsed here, to be refused with the parser's message.
  if (queries.some((q) => !q.trusted && !parsed?.get(q.text))) {
    try {
      await loadParser();
    } catch (error) {
      failAll(queries.map((_, i) => i), error);
      return outcomes;
    }
  }
  let pending: number[] = [];
  for (const [i, query] of queries.entries()) {
    const refusal = query.trusted ? null : refusalOf(query.text, connection.denied, parsed);
    if (refusal) outcomes[i] = { ok: false, error: refusal, durationMs: 0 };
    else pending.push(i);
  }
  while (pending.length > 0) {
    if (connection.broken) {
      try {
        connection = await connect();
      } catch (error) {
        failAll(pending, error);
        break;
      }
    }
    const batch = pending.map((i) => queries[i]);
    const { done, sideEffect } = await runPipeline<R>(connection, batch, timeoutMs);
    if (sideEffect) {
      // Undone already; measured again one by one, the query that does it is named.
      const named = await oneByOne<R>(connect, batch.slice(0, done.length), timeoutMs);
      const found = named.some((o) => !o.ok && o.error instanceof SideEffectError);
      named.forEach((o, k) => (outcomes[pending[k]] = found ? o : { ok: false, error: sideEffect, durationMs: o.durationMs }));
    } else {
      done.forEach((o, k) => (outcomes[pending[k]] = o));
    }
    pending = pending.slice(done.length);
  }
  return outcomes;
}

/**
 * One transaction on one connection: outcomes of a prefix of `queries` (all of them unless
 * the connection broke, after the query it broke on), and the side effect the audit found.
 */
async function runPipeline<R>(connection: CheckConnection, queries: readonly BatchQuery[], timeoutMs: number): Promise<{ done: BatchOutcome<R>[]; sideEffect?: SideEffectError }> {
  const { client } = connection;
  const ms = Math.max(1, Math.round(timeoutMs));
  const open = [
    'BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY',
    `SET LOCAL statement_timeout = ${ms}`,
    `SET LOCAL lock_timeout = ${ms}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${ms + 1_000}`,
    // Last: the query runs with the checks role's rights only; the savepoint holds all of the above.
    ...(connection.runAs ? [`SET LOCAL ROLE ${connection.runAs}`] : []),
    `SAVEPOINT ${SAVEPOINT}`,
  ].join('; ');
  const send: (() => Promise<unknown>)[] = [() => client.query(open)];
  for (const query of queries) send.push(() => client.query(extendedProtocol(query.text, query.values)), () => client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`));
  const sent: Promise<Answer>[] = [];
  const answer = (k: number): Promise<Answer> =>
    (sent[k] ??= send[k]().then(
      (value): Answer => ({ ok: true, value }),
      (error: unknown): Answer => ({ ok: false, error }),
    ));
  // Pipelined, everything goes out now; otherwise each step goes when the one before answered.
  if (client.pipeline) writeAtOnce(client, () => send.forEach((_, k) => void answer(k)));

  const done: BatchOutcome<R>[] = [];
  const deadline = ms + DEADLINE_GRACE_MS;
  const opened = await within(answer(0), deadline);
  if (opened === TIMED_OUT || !opened.ok) {
    // Nothing can run in a transaction that did not open (every query would say 25P02): each says why.
    const error = opened === TIMED_OUT ? timedOut(connection, timeoutMs) : opened.error;
    if (opened === TIMED_OUT) await abandon(connection);
    else await drain(connection, sent);
    return { done: queries.map(() => ({ ok: false, error, durationMs: 0 })) };
  }
  for (const [j] of queries.entries()) {
    const started = performance.now();
    const got = await within(answer(1 + 2 * j), deadline);
    const durationMs = performance.now() - started;
    if (got === TIMED_OUT) {
      await abandon(connection);
      done.push({ ok: false, error: timedOut(connection, timeoutMs), durationMs });
      return { done };
    }
    if (got.ok) {
      const result = got.value as { rows: R[]; fields: { name: string }[] };
      done.push({ ok: true, rows: result.rows, fields: result.fields.map((f) => f.name), durationMs });
    } else {
      done.push({ ok: false, error: got.error, durationMs });
    }
    const back = await within(answer(2 + 2 * j), deadline);
    if (back === TIMED_OUT || !back.ok) {
      // The savepoint could not be restored (the connection broke): the rest go on a new connection.
      await (back === TIMED_OUT ? abandon(connection) : giveUp(connection));
      return { done };
    }
  }
  try {
    await settle(connection);
  } catch (error) {
    if (error instanceof SideEffectError) return { done, sideEffect: error };
    // The session is gone, and with it whatever it held; the measurements stand.
    await giveUp(connection);
  }
  return { done };
}

/**
 * Run `write` with the socket corked: node-pg corks and uncorks around each query, so a
 * pipeline of N queries is N system calls (on a busy machine the biggest cost of a health
 * run); corked around all of them, the messages leave in one writev. The order and content
 * of the messages are the same.
 */
function writeAtOnce(client: CheckConnection['client'], write: () => void): void {
  const stream = client.connection.stream;
  stream.cork();
  try {
    write();
  } finally {
    stream.uncork();
  }
}

/** The guard one query at a time, to find which query of a batch left something behind. */
async function oneByOne<R extends Record<string, unknown>>(connect: () => Promise<CheckConnection>, queries: readonly BatchQuery[], timeoutMs: number): Promise<BatchOutcome<R>[]> {
  const outcomes: BatchOutcome<R>[] = [];
  for (const query of queries) {
    try {
      const { rows, fields, durationMs } = await runReadOnly<R>(await connect(), query, timeoutMs);
      outcomes.push({ ok: true, rows, fields, durationMs });
    } catch (error) {
      outcomes.push({ ok: false, error, durationMs: 0 });
    }
  }
  return outcomes;
}

/** After a failed BEGIN: wait for every answer (each fails), then roll back, so that the connection can be used again. */
async function drain(connection: CheckConnection, sent: readonly Promise<Answer>[]): Promise<void> {
  await Promise.all(sent);
  try {
    await settle(connection);
  } catch (error) {
    // Nothing ran, so nothing was left behind; a connection that cannot roll back is given up.
    if (!(error instanceof SideEffectError)) await giveUp(connection);
  }
}

/** A connection that failed without a deadline passing: nothing to interrupt (guard.ts abandon would restart the embedded database), only to end. */
function giveUp(connection: CheckConnection): Promise<void> {
  if (!connection.broken) {
    connection.broken = true;
    connection.client.connection.stream.destroy();
  }
  return Promise.resolve();
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function timedOut(connection: CheckConnection, timeoutMs: number): CheckTimeoutError {
  return new CheckTimeoutError(
    `timed out after ${formatDuration(timeoutMs)} and was stopped (${connection.access.sharedSession ? 'the embedded database cannot interrupt a statement, so it was restarted' : 'the connection was dropped'}); raise its timeout or make the query faster`,
  );
}
