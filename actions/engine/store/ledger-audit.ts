/**
 * How far the ledger can be trusted: its hash chain walked end to end, and the append-only
 * triggers as the catalog shows them on the ledger tables. `rollout audit` prints it in full;
 * plan, status and health turn it into one warning per problem.
 */
import type pg from 'pg';
import { quickChainCheck, readChainEntries, walkChain, type ChainBreak, type ChainWalk } from './ledger-chain.ts';
import { ledgerTriggerProblems } from './tool-schema.ts';
import { readUnfinishedRestore, unfinishedRestoreWarning } from './unfinished-restore.ts';

export interface LedgerIntegrity {
  environment: string;
  /** Entries of the environment, and how many of them predate the chain. */
  entries: number;
  legacy: number;
  head: { id: number; hash: string } | null;
  /** Where the chain is broken, oldest first (the first is where tampering starts). */
  breaks: ChainBreak[];
  /** What is wrong with the append-only triggers. */
  triggers: string[];
  /** The ledger has no chain columns yet: no apply of this version ran on the database. */
  unchained: boolean;
  /** --head: a published head hash the chain no longer contains. */
  missingHead?: string;
  ok: boolean;
}

export interface AuditOptions {
  /** A head hash published earlier (its first 12 characters or more): it must still be in the chain. */
  expectHead?: string;
  /** Plan and status: every link, but only the latest entries' content (ledger-chain.ts quickChainCheck). */
  quick?: boolean;
}

export async function auditLedger(client: pg.ClientBase, environment: string, options: AuditOptions = {}): Promise<LedgerIntegrity> {
  const { rows: [shape] } = await client.query<{ ledger: boolean; chained: boolean }>(
    `SELECT to_regclass('rollout.ledger') IS NOT NULL AS ledger,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('rollout.ledger') AND attname = 'hash' AND NOT attisdropped) AS chained`,
  );
  const base = { environment, entries: 0, legacy: 0, head: null, breaks: [], unchained: false } satisfies Partial<LedgerIntegrity>;
  if (!shape.ledger) return finish({ ...base, triggers: [] }, options);
  const triggers = await ledgerTriggerProblems(client);
  if (!shape.chained) {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM rollout.ledger WHERE environment = $1', [environment]);
    return finish({ ...base, entries: Number(rows[0].n), legacy: Number(rows[0].n), triggers, unchained: true }, options);
  }
  const walk: Partial<ChainWalk> & Pick<ChainWalk, 'entries' | 'legacy' | 'head' | 'headId' | 'breaks'> = options.quick
    ? await quickChainCheck(client, environment)
    : walkChain(await readChainEntries(client, environment));
  const head = walk.head !== null && walk.headId !== null ? { id: walk.headId, hash: walk.head } : null;
  const result = { ...base, entries: walk.entries, legacy: walk.legacy, head, breaks: walk.breaks, triggers };
  const wanted = options.expectHead?.toLowerCase();
  if (wanted && ![...(walk.hashes?.values() ?? [])].some((h) => h.startsWith(wanted))) return finish({ ...result, missingHead: wanted }, options);
  return finish(result, options);
}

function finish(integrity: Omit<LedgerIntegrity, 'ok'>, options: AuditOptions): LedgerIntegrity {
  const headMissing = options.expectHead !== undefined && (integrity.missingHead !== undefined || integrity.head === null);
  return {
    ...integrity,
    ...(headMissing && integrity.missingHead === undefined ? { missingHead: options.expectHead?.toLowerCase() } : {}),
    ok: integrity.breaks.length === 0 && integrity.triggers.length === 0 && !headMissing,
  };
}

/** One line per problem, for the commands that are not about the ledger (plan, status, health). */
export function integrityWarnings(integrity: LedgerIntegrity): string[] {
  const out: string[] = [];
  const [first] = integrity.breaks;
  if (first) {
    const more = integrity.breaks.length - 1;
    out.push(`the ledger's hash chain is broken: ${first.message}${more > 0 ? ` (${more} more break${more === 1 ? '' : 's'} after it)` : ''}. Run rollout audit --env ${integrity.environment}.`);
  }
  for (const problem of integrity.triggers) out.push(`ledger protection: ${problem}; the next apply re-creates it.`);
  if (integrity.missingHead) out.push(`the published ledger head ${integrity.missingHead.slice(0, 12)} is not in the chain: entries were removed from its end or the chain was rewritten.`);
  return out;
}

/**
 * For plan, status and health: the warnings, or one saying the ledger could not be read (never
 * a failure of theirs). `quick` for the interactive commands (plan, status); health, which runs
 * on a schedule, walks the whole chain.
 */
export async function readIntegrityWarnings(client: pg.ClientBase, environment: string, options: { quick: boolean }): Promise<{ head: LedgerIntegrity['head']; warnings: string[] }> {
  try {
    const integrity = await auditLedger(client, environment, { quick: options.quick });
    // Not the chain's integrity, but the ledger's other open question: a restore that recorded no outcome.
    const unfinished = integrity.entries > 0 ? await readUnfinishedRestore(client, environment) : null;
    return { head: integrity.head, warnings: [...integrityWarnings(integrity), ...(unfinished ? [unfinishedRestoreWarning(environment, unfinished)] : [])] };
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    return { head: null, warnings: [`the ledger could not be verified: ${(error as Error).message} (grant SELECT on rollout.ledger and rollout.ledger_changes to this role).`] };
  }
}

/** The text `rollout audit` prints. */
export function renderAuditText(integrity: LedgerIntegrity): string {
  const out: string[] = [];
  const head = integrity.head ? `head #${integrity.head.id} ${integrity.head.hash}` : 'no entries';
  if (integrity.unchained) {
    out.push(`Ledger of ${integrity.environment}: ${integrity.entries} entr${integrity.entries === 1 ? 'y' : 'ies'}, written before the hash chain existed; the next apply starts the chain over them.`);
  } else if (integrity.breaks.length === 0) {
    out.push(`Ledger of ${integrity.environment}: ${integrity.entries} entr${integrity.entries === 1 ? 'y' : 'ies'}, hash chain intact; ${head}.`);
    if (integrity.legacy > 0) out.push(`  ${integrity.legacy} entr${integrity.legacy === 1 ? 'y predates' : 'ies predate'} the chain and ${integrity.legacy === 1 ? 'is' : 'are'} covered from the first chained entry on.`);
  } else {
    out.push(`Ledger of ${integrity.environment}: ${integrity.entries} entries, hash chain BROKEN. First bad entry: #${integrity.breaks[0].id}.`);
    for (const b of integrity.breaks) out.push(`  ✗ ${b.message}`);
    out.push(`  Last entry: ${head}.`);
  }
  if (integrity.missingHead) out.push(`✗ the published head ${integrity.missingHead} is not in the chain: entries were removed from its end, or the chain was rewritten.`);
  if (integrity.triggers.length === 0) out.push('Append-only triggers on rollout.ledger and rollout.ledger_changes: in place, firing ALWAYS.');
  else for (const problem of integrity.triggers) out.push(`✗ ledger protection: ${problem} (rollout apply re-creates it).`);
  return `${out.join('\n')}\n`;
}
