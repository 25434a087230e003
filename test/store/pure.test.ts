/**
 * The parts of the flag store that need no database: walking the ledger's hash chain, the
 * hash's format, what audit, plan and status say about the chain, the change notice, and what
 * a flag serves as read from live state. The database side is test/store/database.test.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asStored, entryDigest, walkChain, type ChainEntry, type StoredEntry } from '../../actions/engine/store/ledger-chain.ts';
import { integrityWarnings, renderAuditText, type LedgerIntegrity } from '../../actions/engine/store/ledger-audit.ts';
import { changeNotice } from '../../actions/engine/store/flag-writer.ts';
import { chainLockKey } from '../../actions/engine/store/ledger.ts';
import { liveDefinitionOf, quoteTable, type LiveState } from '../../actions/engine/store/live-state.ts';

const entry = (id: number, overrides: Partial<ChainEntry> = {}): ChainEntry => ({
  id,
  environment: 'staging',
  at: new Date(Date.UTC(2026, 11, 3, 10, 0, id)),
  kind: 'apply',
  actor: 'alice',
  commit: null,
  pullRequest: null,
  planHash: null,
  outcome: 'applied',
  reason: null,
  summary: {},
  changes: [],
  ...overrides,
});

/** Entries as apply stores them: each hashed over its content and its predecessor's hash. */
function chain(ids: number[]): StoredEntry[] {
  let prev: string | null = null;
  return ids.map((id) => {
    const e = entry(id);
    const hash = entryDigest(e, prev);
    const stored = { entry: e, prevHash: prev, hash };
    prev = hash;
    return stored;
  });
}

describe('the hash of a ledger entry', () => {
  it('is sha256 of the domain line and the canonical JSON of the entry, its changes and prev (so anyone can recompute it)', () => {
    const e = entry(7, { summary: { flags: 1 }, changes: [] });
    const prev = 'ab'.repeat(32);
    const canonical = `{"actor":"alice","at":"2026-12-03T10:00:07.000Z","changes":[],"commit":null,"environment":"staging","id":7,"kind":"apply","outcome":"applied","planHash":null,"prev":"${prev}","pullRequest":null,"reason":null,"summary":{"flags":1}}`;
    expect(entryDigest(e, prev)).toBe(createHash('sha256').update(`rollout-ledger-v1\n${canonical}`).digest('hex'));
  });

  it('changes with the predecessor it links to', () => {
    expect(entryDigest(entry(1), null)).not.toBe(entryDigest(entry(1), 'a'.repeat(64)));
  });

  it('is computed over values as a jsonb column returns them', () => {
    expect(asStored(undefined)).toBeNull();
    expect(asStored({ a: 1, b: undefined } as never)).toEqual({ a: 1 });
    expect(Object.keys(asStored({ a: 1, b: undefined } as never) as object)).toEqual(['a']);
  });
});

describe('walking the chain', () => {
  it('finds nothing wrong in an intact chain, and names its head', () => {
    const entries = chain([1, 2, 6]);
    const walk = walkChain(entries);
    expect(walk).toMatchObject({ entries: 3, legacy: 0, headId: 6, head: entries[2].hash, breaks: [] });
    expect([...walk.hashes.keys()]).toEqual([1, 2, 6]);
    expect(walk.hashes.get(2)).toBe(entries[1].hash);
  });

  it('an empty ledger has no head', () => {
    expect(walkChain([])).toMatchObject({ entries: 0, legacy: 0, head: null, headId: null, breaks: [] });
  });

  it('names an entry whose content changed, and goes on from its stored hash', () => {
    const entries = chain([1, 2, 3]);
    entries[1] = { ...entries[1], entry: { ...entries[1].entry, actor: 'mallory' } };
    const walk = walkChain(entries);
    expect(walk.breaks).toEqual([
      { id: 2, kind: 'changed', message: 'entry #2 (apply by mallory, 2026-12-03T10:00:02.000Z) no longer matches its hash: it, or one of its changes, was altered after it was written' },
    ]);
    expect(walk.head).toBe(entries[2].hash);
  });

  it('names the entry after a removed one', () => {
    const entries = chain([1, 2, 3]);
    const walk = walkChain([entries[0], entries[2]]);
    expect(walk.breaks).toEqual([{ id: 3, kind: 'link', message: 'entry #3 does not follow #1: an entry between them was removed, or #3 was inserted out of order' }]);
  });

  it('names a first entry that links to entries no longer there', () => {
    const entries = chain([1, 2]);
    expect(walkChain([entries[1]]).breaks).toEqual([
      { id: 2, kind: 'link', message: 'entry #2 is the first of the environment but links to an earlier entry: the entries before it were removed' },
    ]);
  });

  it('counts entries older than the chain as legacy and links the first hashed entry to what they hash to', () => {
    const legacy = [entry(1), entry(2)];
    const first = entryDigest(legacy[0], null);
    const second = entryDigest(legacy[1], first);
    const next = entry(3);
    const entries: StoredEntry[] = [
      { entry: legacy[0], prevHash: null, hash: null },
      { entry: legacy[1], prevHash: null, hash: null },
      { entry: next, prevHash: second, hash: entryDigest(next, second) },
    ];
    const walk = walkChain(entries);
    expect(walk).toMatchObject({ entries: 3, legacy: 2, breaks: [], headId: 3 });
    expect(walk.hashes.get(1)).toBe(first);
    expect(walk.hashes.get(2)).toBe(second);
  });

  it('an entry with no hash after a hashed one is a break, not legacy', () => {
    const entries = chain([1]);
    const walk = walkChain([...entries, { entry: entry(2), prevHash: null, hash: null }]);
    expect(walk.legacy).toBe(0);
    expect(walk.breaks).toEqual([
      { id: 2, kind: 'unhashed', message: 'entry #2 has no hash but comes after #1, which has one: it was inserted outside rollout, or its hash was erased' },
    ]);
    expect(walk.head).toBe(entryDigest(entry(2), entries[0].hash));
  });

  it('a walk of the latest entries starts from the stored hash of the one before them', () => {
    const entries = chain([1, 2, 3]);
    expect(walkChain(entries.slice(1), { id: 1, hash: entries[0].hash }).breaks).toEqual([]);
    expect(walkChain(entries.slice(1), { id: 1, hash: 'f'.repeat(64) }).breaks).toEqual([
      { id: 2, kind: 'link', message: 'entry #2 does not follow #1: an entry between them was removed, or #2 was inserted out of order' },
    ]);
    // The anchor counts as hashed: an unhashed entry after it is a break.
    const unhashed = walkChain([{ entry: entry(2), prevHash: null, hash: null }], { id: 1, hash: entries[0].hash });
    expect(unhashed).toMatchObject({ legacy: 0, breaks: [{ id: 2, kind: 'unhashed' }] });
    // An anchor without a hash (an entry older than the chain) is no anchor.
    expect(walkChain([{ entry: entry(2), prevHash: null, hash: null }], { id: 1, hash: null })).toMatchObject({ legacy: 1, breaks: [] });
  });
});

const integrity = (overrides: Partial<LedgerIntegrity> = {}): LedgerIntegrity => ({
  environment: 'staging',
  entries: 3,
  legacy: 0,
  head: { id: 6, hash: 'c0ffee'.repeat(10) + 'abcd' },
  breaks: [],
  triggers: [],
  unchained: false,
  ok: true,
  ...overrides,
});

const brk = (id: number) => ({ id, kind: 'link' as const, message: `entry #${id} does not follow #${id - 1}` });

describe('what plan, status and health say about the ledger', () => {
  it('nothing when it is whole', () => {
    expect(integrityWarnings(integrity())).toEqual([]);
  });

  it('the first break, how many follow it, and the command to run', () => {
    expect(integrityWarnings(integrity({ breaks: [brk(4)] }))).toEqual([
      "the ledger's hash chain is broken: entry #4 does not follow #3. Run rollout audit --env staging.",
    ]);
    expect(integrityWarnings(integrity({ breaks: [brk(4), brk(5)] }))[0]).toBe(
      "the ledger's hash chain is broken: entry #4 does not follow #3 (1 more break after it). Run rollout audit --env staging.",
    );
    expect(integrityWarnings(integrity({ breaks: [brk(4), brk(5), brk(6)] }))[0]).toContain('(2 more breaks after it)');
  });

  it('each trigger problem, and a published head no longer in the chain', () => {
    expect(integrityWarnings(integrity({ triggers: ['a', 'b'], missingHead: '0123456789abcdef' }))).toEqual([
      'ledger protection: a; the next apply re-creates it.',
      'ledger protection: b; the next apply re-creates it.',
      'the published ledger head 0123456789ab is not in the chain: entries were removed from its end or the chain was rewritten.',
    ]);
  });
});

describe('what rollout audit prints', () => {
  const triggersOk = 'Append-only triggers on rollout.ledger and rollout.ledger_changes: in place, firing ALWAYS.';

  it('an intact chain with its head, and entries that predate it', () => {
    const head = integrity().head;
    expect(renderAuditText(integrity())).toBe(`Ledger of staging: 3 entries, hash chain intact; head #6 ${head?.hash}.\n${triggersOk}\n`);
    expect(renderAuditText(integrity({ entries: 1, legacy: 1 }))).toBe(
      `Ledger of staging: 1 entry, hash chain intact; head #6 ${head?.hash}.\n  1 entry predates the chain and is covered from the first chained entry on.\n${triggersOk}\n`,
    );
    expect(renderAuditText(integrity({ legacy: 2 }))).toContain('  2 entries predate the chain and are covered from the first chained entry on.');
    expect(renderAuditText(integrity({ entries: 0, head: null }))).toContain('Ledger of staging: 0 entries, hash chain intact; no entries.');
  });

  it('a ledger written before the chain existed', () => {
    expect(renderAuditText(integrity({ unchained: true, entries: 1, head: null }))).toBe(
      `Ledger of staging: 1 entry, written before the hash chain existed; the next apply starts the chain over them.\n${triggersOk}\n`,
    );
    expect(renderAuditText(integrity({ unchained: true, entries: 2, head: null }))).toContain('2 entries, written before');
  });

  it('a broken chain: its first bad entry, every break, the last entry', () => {
    const text = renderAuditText(integrity({ breaks: [brk(4), brk(5)], ok: false }));
    expect(text.split('\n')).toEqual([
      'Ledger of staging: 3 entries, hash chain BROKEN. First bad entry: #4.',
      '  ✗ entry #4 does not follow #3',
      '  ✗ entry #5 does not follow #4',
      `  Last entry: head #6 ${integrity().head?.hash}.`,
      triggersOk,
      '',
    ]);
  });

  it('a missing published head and each trigger problem', () => {
    const text = renderAuditText(integrity({ missingHead: '0123456789abcdef', triggers: ['no trigger on rollout.ledger refuses TRUNCATE (dropped?)'], ok: false }));
    expect(text).toContain('✗ the published head 0123456789abcdef is not in the chain: entries were removed from its end, or the chain was rewritten.\n');
    expect(text).toContain('✗ ledger protection: no trigger on rollout.ledger refuses TRUNCATE (dropped?) (rollout apply re-creates it).\n');
    expect(text).not.toContain(triggersOk);
  });
});

describe('the change notice', () => {
  it('names the entry and the keys it changed', () => {
    expect(JSON.parse(changeNotice(12, ['a', 'b']))).toEqual({ ledger_id: 12, keys: ['a', 'b'] });
  });

  it('leaves the keys out when they would not fit in a NOTIFY payload (the provider then re-reads everything)', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `flag.${String(i).padStart(40, '0')}`);
    const notice = changeNotice(12, keys);
    expect(JSON.parse(notice)).toEqual({ ledger_id: 12 });
    // Up to 7,000 bytes (NOTIFY allows 8,000), counted in bytes, not characters.
    const keysOf = (notice: string) => (JSON.parse(notice) as { keys?: string[] }).keys;
    const fits = (n: number) => JSON.stringify({ ledger_id: 1, keys: ['x'.repeat(n)] }).length;
    const justFits = 7000 - fits(0);
    expect(keysOf(changeNotice(1, ['x'.repeat(justFits)]))).toHaveLength(1);
    expect(keysOf(changeNotice(1, ['x'.repeat(justFits + 1)]))).toBeUndefined();
    expect(keysOf(changeNotice(1, ['é'.repeat(Math.ceil(justFits / 2) + 1)]))).toBeUndefined();
  });
});

describe('the chain lock', () => {
  it('is one signed 64-bit key per environment, the same in every process', () => {
    const key = chainLockKey('staging');
    expect(key).toBe(chainLockKey('staging'));
    expect(key).not.toBe(chainLockKey('production'));
    expect(key).toBe(createHash('sha256').update('rollout:ledger-chain:staging').digest().readBigInt64BE(0));
  });
});

describe('table names in SQL', () => {
  it('quotes each part of schema.table, doubling quotes', () => {
    expect(quoteTable('app.feature_flags')).toBe('"app"."feature_flags"');
    expect(quoteTable('flags')).toBe('"flags"');
    expect(quoteTable('we"ird.t')).toBe('"we""ird"."t"');
  });
});

describe('what a flag serves, from live state', () => {
  const state = (overrides: Partial<LiveState> = {}): LiveState => ({ flagTable: 'rollout.flags', flagTableExists: true, flags: new Map(), rollouts: new Map(), ...overrides });

  it('nothing for a flag that is not live', () => {
    expect(liveDefinitionOf('x', state())).toBeUndefined();
  });

  it('the value table\'s value for every unit, for a flag no definition was written for', () => {
    const s = state({ flags: new Map([['x', { value: 1, stored: { value: 2, text: '2' } }], ['y', { value: 3 }]]) });
    expect(liveDefinitionOf('x', s)).toEqual({ key: 'x', value: 2, offValue: 2, stage: null, percent: 0, segments: [], killSwitch: false, ledgerId: null });
    expect(liveDefinitionOf('y', s)).toMatchObject({ value: 3, offValue: 3 });
    // A rollout row an older version wrote (no definition) is the same.
    const old = state({ flags: s.flags, rollouts: new Map([['x', { stage: 'canary', percent: 5, stageSince: null, recordedValue: 2, recordedKind: 'apply', ledgerId: 4 }]]) });
    expect(liveDefinitionOf('x', old)).toMatchObject({ value: 2, stage: null, percent: 0, ledgerId: null });
  });

  it('a definition as the view gives it: percent only on canary, the value as off value only for a plain flag', () => {
    const definition = { value: 'on', offValue: null, segments: [{ name: 'internal', keys: ['u1'] }], killSwitch: true, valueText: '"on"', text: '' };
    const rollout = (stage: 'canary' | 'dark' | null, percent: number | null, d: object = definition) =>
      state({
        flags: new Map([['f', { value: 'on' }]]),
        rollouts: new Map([['f', { stage, percent, stageSince: null, recordedValue: null, recordedKind: 'apply', ledgerId: 9, definition: d as never }]]),
      });
    expect(liveDefinitionOf('f', rollout('canary', 25))).toEqual({ key: 'f', value: 'on', offValue: null, stage: 'canary', percent: 25, segments: definition.segments, killSwitch: true, ledgerId: 9 });
    expect(liveDefinitionOf('f', rollout('canary', null))).toMatchObject({ percent: 0 });
    expect(liveDefinitionOf('f', rollout('dark', 25))).toMatchObject({ stage: 'dark', percent: 0, offValue: null });
    expect(liveDefinitionOf('f', rollout(null, null))).toMatchObject({ stage: null, offValue: 'on' });
    expect(liveDefinitionOf('f', rollout('dark', null, { ...definition, offValue: 'off' }))).toMatchObject({ offValue: 'off' });
    expect(liveDefinitionOf('f', rollout('dark', null, { ...definition, override: false }))).toMatchObject({ override: false });
    expect(liveDefinitionOf('f', rollout('dark', null))).not.toHaveProperty('override');
  });
});
