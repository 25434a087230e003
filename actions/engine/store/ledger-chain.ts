/**
 * The ledger as a hash chain. Each entry of an environment carries
 *
 *   hash = sha256("rollout-ledger-v1\n" + canonical JSON of { the entry, its changes, prev })
 *
 * where `prev` is the hash of the environment's entry before it (null for the first). It is
 * computed in JavaScript over the values exactly as `pg` reads them back, written in the same
 * transaction as the entry, and checked by walking the chain (`rollout audit`): an entry whose
 * content was changed no longer matches its hash; one removed or inserted out of order breaks
 * the link of the entry after it. Entries written before the chain existed are hashed as they
 * are read the first time one is appended after them, so they are covered from then on.
 *
 * What it cannot prove: someone who may rewrite the table (a superuser, the owner with the
 * triggers off) can recompute every hash after the one they changed, and can drop entries from
 * the end. Publishing the head hash elsewhere (the job summary, the deployment status) is what
 * makes that detectable: `rollout audit --head HASH` checks a published head is still in the chain.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { JsonValue } from '../config/model.ts';
import { canonicalJson } from '../plan/hash.ts';

/** The fields of an entry the hash covers, as `pg` reads them. */
export interface ChainEntry {
  id: number;
  environment: string;
  at: Date;
  kind: string;
  actor: string;
  commit: string | null;
  pullRequest: number | null;
  planHash: string | null;
  outcome: string;
  reason: string | null;
  summary: JsonValue;
  changes: ChainChange[];
}

export interface ChainChange {
  ordinal: number;
  subject: string;
  key: string;
  action: string;
  oldValue: JsonValue;
  newValue: JsonValue;
  oldStage: string | null;
  newStage: string | null;
  oldPercent: number | null;
  newPercent: number | null;
}

const DOMAIN = 'rollout-ledger-v1\n';

export function entryDigest(entry: ChainEntry, prev: string | null): string {
  const { at, ...rest } = entry;
  return createHash('sha256').update(DOMAIN).update(canonicalJson({ ...rest, at: at.toISOString(), prev })).digest('hex');
}

/** A JSON value as it comes back from a jsonb column: what the hash is computed over at write time too. */
export const asStored = (value: JsonValue | undefined): JsonValue => (value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue));

interface StoredRow {
  id: string;
  environment: string;
  at: Date;
  kind: string;
  actor: string;
  commit_sha: string | null;
  pull_request: number | null;
  plan_hash: string | null;
  outcome: string;
  reason: string | null;
  summary: JsonValue;
  prev_hash: string | null;
  hash: string | null;
  changes: {
    ordinal: number; subject: string; key: string; action: string; old_value: JsonValue; new_value: JsonValue;
    old_stage: string | null; new_stage: string | null; old_percent: number | null; new_percent: number | null;
  }[] | null;
}

export interface StoredEntry {
  entry: ChainEntry;
  prevHash: string | null;
  hash: string | null;
}

const ENTRIES_SQL = `
SELECT l.id, l.environment, l.at, l.kind, l.actor, l.commit_sha, l.pull_request, l.plan_hash, l.outcome, l.reason, l.summary, l.prev_hash, l.hash,
       (SELECT json_agg(json_build_object('ordinal', c.ordinal, 'subject', c.subject, 'key', c.key, 'action', c.action,
                                          'old_value', c.old_value, 'new_value', c.new_value, 'old_stage', c.old_stage, 'new_stage', c.new_stage,
                                          'old_percent', c.old_percent, 'new_percent', c.new_percent) ORDER BY c.ordinal)
          FROM rollout.ledger_changes c WHERE c.ledger_id = l.id) AS changes
  FROM rollout.ledger l
 WHERE l.environment = $1 AND l.id > $2
 ORDER BY l.id`;

/** The environment's entries after `afterId`, oldest first, as the hash sees them. */
export async function readChainEntries(client: pg.ClientBase, environment: string, afterId = 0): Promise<StoredEntry[]> {
  const { rows } = await client.query<StoredRow>(ENTRIES_SQL, [environment, afterId]);
  return rows.map((r) => ({
    entry: {
      id: Number(r.id),
      environment: r.environment,
      at: r.at,
      kind: r.kind,
      actor: r.actor,
      commit: r.commit_sha,
      pullRequest: r.pull_request,
      planHash: r.plan_hash,
      outcome: r.outcome,
      reason: r.reason,
      summary: r.summary,
      changes: (r.changes ?? []).map((c) => ({
        ordinal: c.ordinal,
        subject: c.subject,
        key: c.key,
        action: c.action,
        oldValue: c.old_value,
        newValue: c.new_value,
        oldStage: c.old_stage,
        newStage: c.new_stage,
        oldPercent: c.old_percent === null ? null : Number(c.old_percent),
        newPercent: c.new_percent === null ? null : Number(c.new_percent),
      })),
    },
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}

/** What the hash of the next entry links to: the last entry's stored hash, or (after entries older than the chain) the hash they would have. */
export async function chainTip(client: pg.ClientBase, environment: string): Promise<string | null> {
  const { rows } = await client.query<{ hash: string | null }>('SELECT hash FROM rollout.ledger WHERE environment = $1 ORDER BY id DESC LIMIT 1', [environment]);
  if (rows.length === 0) return null;
  if (rows[0].hash !== null) return rows[0].hash;
  const entries = await readChainEntries(client, environment);
  return walkChain(entries).head;
}

export type ChainBreak =
  | { id: number; kind: 'changed'; message: string }
  | { id: number; kind: 'link'; message: string }
  | { id: number; kind: 'unhashed'; message: string };

export interface ChainWalk {
  entries: number;
  /** Entries written before the chain existed (no stored hash, all before the first hashed one). */
  legacy: number;
  head: string | null;
  headId: number | null;
  breaks: ChainBreak[];
  /** Every hash in the chain, by entry id (for --head). */
  hashes: Map<number, string>;
}

/**
 * Walk the chain oldest first. Each entry is judged on its own (its content against its
 * stored hash) and against its predecessor (its stored prev against the predecessor's hash),
 * so a break names the entry where it happened and the walk goes on from there.
 */
export function walkChain(entries: readonly StoredEntry[], anchor: { id: number; hash: string | null } | null = null): ChainWalk {
  const breaks: ChainBreak[] = [];
  const hashes = new Map<number, string>();
  // A walk of the latest entries starts from the stored hash of the one before them.
  let previous: { id: number; hash: string } | null = anchor?.hash ? { id: anchor.id, hash: anchor.hash } : null;
  let chained = previous !== null;
  let legacy = 0;
  for (const { entry, prevHash, hash } of entries) {
    const expectedPrev = previous?.hash ?? null;
    if (hash === null) {
      const computed = entryDigest(entry, expectedPrev);
      if (chained) {
        breaks.push({ id: entry.id, kind: 'unhashed', message: `entry #${entry.id} has no hash but comes after #${previous?.id ?? '?'}, which has one: it was inserted outside rollout, or its hash was erased` });
      } else {
        legacy += 1;
      }
      previous = { id: entry.id, hash: computed };
      hashes.set(entry.id, computed);
      continue;
    }
    chained = true;
    if (entryDigest(entry, prevHash) !== hash) {
      breaks.push({ id: entry.id, kind: 'changed', message: `entry #${entry.id} (${entry.kind} by ${entry.actor}, ${entry.at.toISOString()}) no longer matches its hash: it, or one of its changes, was altered after it was written` });
    } else if (prevHash !== expectedPrev) {
      breaks.push({
        id: entry.id,
        kind: 'link',
        message: previous
          ? `entry #${entry.id} does not follow #${previous.id}: an entry between them was removed, or #${entry.id} was inserted out of order`
          : `entry #${entry.id} is the first of the environment but links to an earlier entry: the entries before it were removed`,
      });
    }
    previous = { id: entry.id, hash };
    hashes.set(entry.id, hash);
  }
  return { entries: entries.length, legacy, head: previous?.hash ?? null, headId: previous?.id ?? null, breaks, hashes };
}

/** The environment's head: its last entry's id and hash (null on an empty ledger). */
export async function ledgerHead(client: pg.ClientBase, environment: string): Promise<{ id: number; hash: string } | null> {
  const { rows: present } = await client.query<{ ok: boolean }>("SELECT to_regclass('rollout.ledger') IS NOT NULL AS ok");
  if (!present[0]?.ok) return null;
  const { rows } = await client.query<{ id: string }>('SELECT id FROM rollout.ledger WHERE environment = $1 ORDER BY id DESC LIMIT 1', [environment]);
  if (rows.length === 0) return null;
  const hash = await chainTip(client, environment);
  return hash === null ? null : { id: Number(rows[0].id), hash };
}

/** How many of the latest entries plan and status hash again (rollout audit and health hash them all). */
export const RECENT_ENTRIES = 100;

const LINKS_SQL = `
WITH chain AS (
  SELECT id, prev_hash, hash,
         lag(id) OVER w AS before_id, lag(hash) OVER w AS before_hash,
         bool_or(hash IS NOT NULL) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS chained_before
    FROM rollout.ledger WHERE environment = $1
  WINDOW w AS (ORDER BY id))
SELECT id, before_id, hash IS NULL AS unhashed
  FROM chain
 WHERE (hash IS NULL AND coalesce(chained_before, false))
    OR (hash IS NOT NULL AND coalesce(chained_before, false) AND prev_hash IS DISTINCT FROM before_hash)
    OR (hash IS NOT NULL AND before_id IS NULL AND prev_hash IS NOT NULL)
 ORDER BY id`;

/**
 * The quick check plan and status make: every link of the whole chain, compared in SQL (two
 * columns, no content), and the content of the latest RECENT_ENTRIES entries hashed again.
 * It finds removed and inserted entries anywhere, and rewritten ones whose hash was
 * recomputed (their successor's link breaks); an old entry edited in place with its hash left
 * as it was is found by the full walk (rollout audit, health).
 */
export async function quickChainCheck(client: pg.ClientBase, environment: string): Promise<Pick<ChainWalk, 'entries' | 'legacy' | 'head' | 'headId' | 'breaks'>> {
  const { rows: links } = await client.query<{ id: string; before_id: string | null; unhashed: boolean }>(LINKS_SQL, [environment]);
  const { rows: tail } = await client.query<{ anchor_id: string | null; anchor_hash: string | null; entries: string; legacy: string }>(
    `SELECT (SELECT id FROM rollout.ledger WHERE environment = $1 ORDER BY id DESC OFFSET $2 LIMIT 1) AS anchor_id,
            (SELECT hash FROM rollout.ledger WHERE environment = $1 ORDER BY id DESC OFFSET $2 LIMIT 1) AS anchor_hash,
            (SELECT count(*) FROM rollout.ledger WHERE environment = $1) AS entries,
            (SELECT count(*) FROM rollout.ledger l WHERE environment = $1 AND hash IS NULL
                AND NOT EXISTS (SELECT 1 FROM rollout.ledger e WHERE e.environment = $1 AND e.id < l.id AND e.hash IS NOT NULL)) AS legacy`,
    [environment, RECENT_ENTRIES],
  );
  const { anchor_id: anchorId, anchor_hash: anchorHash } = tail[0];
  // With entries older than the chain in the way, hash them all: the walk computes what they link to.
  const full = anchorId !== null && anchorHash === null;
  const recent = await readChainEntries(client, environment, full || anchorId === null ? 0 : Number(anchorId));
  const walk = walkChain(recent, full || anchorId === null ? null : { id: Number(anchorId), hash: anchorHash });
  const byId = new Map<number, ChainBreak>();
  for (const link of links) {
    const id = Number(link.id);
    byId.set(
      id,
      link.unhashed
        ? { id, kind: 'unhashed', message: `entry #${id} has no hash but comes after #${link.before_id ?? '?'}, which has one: it was inserted outside rollout, or its hash was erased` }
        : link.before_id === null
          ? { id, kind: 'link', message: `entry #${id} is the first of the environment but links to an earlier entry: the entries before it were removed` }
          : { id, kind: 'link', message: `entry #${id} does not follow #${link.before_id}: an entry between them was removed, or #${id} was inserted out of order` },
    );
  }
  // The content check names a changed entry more precisely than the link after it.
  for (const b of walk.breaks) byId.set(b.id, b);
  const breaks = [...byId.values()].sort((a, b) => a.id - b.id);
  return { entries: Number(tail[0].entries), legacy: Number(tail[0].legacy), head: walk.head, headId: walk.headId, breaks };
}
