/** The pure parts of rollout restore: which backup, which TOC lines stay out, what the plan and the ledger say. */
import { describe, expect, it } from 'vitest';
import { kindMismatch, newestBackup, parseBackupName } from '../../actions/engine/restore/backup-file.ts';
import { excludePreserved, parseTocLine } from '../../actions/engine/restore/toc.ts';
import { renderRestorePlan, restoreChanges, type RestorePlan, type Snapshot } from '../../actions/engine/restore/restore-plan.ts';
import type { LiveState } from '../../actions/engine/store/live-state.ts';
import { unfinishedRestoreWarning, type UnfinishedRestore } from '../../actions/engine/store/unfinished-restore.ts';

// `pg_restore --list` of a dump of a database with the tool's ledger tables (PostgreSQL 15).
const TOC = `;
; Archive created at 2026-12-02 13:51:51 UTC
;
6; 2615 16394 SCHEMA - rollout postgres
221; 1255 16415 FUNCTION rollout refuse_ledger_rewrite() postgres
220; 1259 16425 TABLE public t postgres
219; 1259 16424 SEQUENCE public t_id_seq postgres
3379; 0 0 SEQUENCE OWNED BY public t_id_seq postgres
218; 1259 16417 TABLE rollout flags postgres
216; 1259 16396 TABLE rollout ledger postgres
3380; 0 0 COMMENT rollout TABLE ledger postgres
217; 1259 16404 TABLE rollout ledger_changes postgres
215; 1259 16395 SEQUENCE rollout ledger_id_seq postgres
3372; 0 16425 TABLE DATA public t postgres
3370; 0 16417 TABLE DATA rollout flags postgres
3368; 0 16396 TABLE DATA rollout ledger postgres
3369; 0 16404 TABLE DATA rollout ledger_changes postgres
3381; 0 0 SEQUENCE SET public t_id_seq postgres
3382; 0 0 SEQUENCE SET rollout ledger_id_seq postgres
3220; 2606 16423 CONSTRAINT rollout flags flags_pkey postgres
3218; 2606 16408 CONSTRAINT rollout ledger_changes ledger_changes_pkey postgres
3215; 2606 16403 CONSTRAINT rollout ledger ledger_pkey postgres
3216; 1259 16414 INDEX rollout ledger_changes_key postgres
3217; 1259 16419 INDEX rollout flags_by_value postgres
3224; 2620 16416 TRIGGER rollout ledger ledger_append_only postgres
3223; 2606 16409 FK CONSTRAINT rollout ledger_changes ledger_changes_ledger_id_fkey postgres`;

const KEEP = { schema: 'rollout', tables: ['ledger', 'ledger_changes'], relations: ['ledger_pkey', 'ledger_changes_pkey', 'ledger_changes_key', 'ledger_id_seq'], functions: ['refuse_ledger_rewrite()'] };

describe('the TOC of a restore', () => {
  it('parses descriptions with spaces', () => {
    expect(parseTocLine('3382; 0 0 SEQUENCE SET rollout ledger_id_seq postgres')).toEqual({ desc: 'SEQUENCE SET', namespace: 'rollout', tag: 'ledger_id_seq postgres' });
    expect(parseTocLine('; Archive created')).toBeUndefined();
  });

  it('comments out exactly the preserved objects, and leaves everything else to restore', () => {
    const { list, excluded } = excludePreserved(TOC, KEEP);
    const kept = list.split('\n').filter((l) => /^\d/.test(l));
    const out = list.split('\n').filter((l) => /^;\d/.test(l)).map((l) => l.slice(1));
    expect(out).toEqual([
      '6; 2615 16394 SCHEMA - rollout postgres',
      '221; 1255 16415 FUNCTION rollout refuse_ledger_rewrite() postgres',
      '216; 1259 16396 TABLE rollout ledger postgres',
      '3380; 0 0 COMMENT rollout TABLE ledger postgres',
      '217; 1259 16404 TABLE rollout ledger_changes postgres',
      '215; 1259 16395 SEQUENCE rollout ledger_id_seq postgres',
      '3368; 0 16396 TABLE DATA rollout ledger postgres',
      '3369; 0 16404 TABLE DATA rollout ledger_changes postgres',
      '3382; 0 0 SEQUENCE SET rollout ledger_id_seq postgres',
      '3218; 2606 16408 CONSTRAINT rollout ledger_changes ledger_changes_pkey postgres',
      '3215; 2606 16403 CONSTRAINT rollout ledger ledger_pkey postgres',
      '3216; 1259 16414 INDEX rollout ledger_changes_key postgres',
      '3224; 2620 16416 TRIGGER rollout ledger ledger_append_only postgres',
      '3223; 2606 16409 FK CONSTRAINT rollout ledger_changes ledger_changes_ledger_id_fkey postgres',
    ]);
    expect(excluded).toBe(out.length);
    expect(kept).toContain('3370; 0 16417 TABLE DATA rollout flags postgres');
    expect(kept).toContain('3217; 1259 16419 INDEX rollout flags_by_value postgres');
    expect(kept).toContain('3372; 0 16425 TABLE DATA public t postgres');
    expect(kept).toHaveLength(9);
  });
});

describe('which backup', () => {
  const files = ['staging-20261201T090000Z.dump', 'staging-20261202T100000Z.dump', 'staging-20261203T100000Z.tar.gz', 'production-20261204T000000Z.dump', 'notes.txt'];

  it('is the newest of the environment for its kind of database', () => {
    expect(newestBackup(files, 'staging', 'url')).toMatchObject({ file: 'staging-20261202T100000Z.dump', of: 2 });
    expect(newestBackup(files, 'staging', 'embedded')).toMatchObject({ file: 'staging-20261203T100000Z.tar.gz', of: 1 });
    expect(newestBackup(files, 'local', 'url')).toBeUndefined();
  });

  it('reads whose and when from the name rollout gave it', () => {
    expect(parseBackupName('/x/my-env-20261202T100000Z.tar.gz')).toEqual({ environment: 'my-env', takenAt: new Date('2026-12-02T10:00:00Z'), extension: 'tar.gz' });
    expect(parseBackupName('dump.sql')).toBeUndefined();
  });

  it('refuses a backup of the other kind of database, saying which kind it needs', () => {
    expect(kindMismatch('a.dump', 'url', 'staging')).toBeUndefined();
    expect(kindMismatch('a.tar.gz', 'url', 'staging')).toContain('has a server database, which restores from a pg_dump custom-format file (.dump)');
    expect(kindMismatch('a.sql', 'embedded', 'local')).toContain('is neither a .dump nor a .tar.gz');
  });
});

const live = (flags: Record<string, unknown>, stages: Record<string, [string, number | null]> = {}): LiveState => ({
  flagTable: 'rollout.flags',
  flagTableExists: true,
  flags: new Map(Object.entries(flags).map(([k, v]) => [k, { value: v as never, text: JSON.stringify(v) }])),
  rollouts: new Map(Object.entries(stages).map(([k, [stage, percent]]) => [k, { stage: stage as never, percent, stageSince: null, recordedValue: null, recordedKind: 'apply', ledgerId: 1 }])),
});

describe('the restore plan and its ledger changes', () => {
  const plan: RestorePlan = {
    environment: 'production',
    database: 'postgres://app:***@db/app',
    databaseKind: 'url',
    backup: { display: 'backups/staging-20261202T100000Z.dump', argument: 'backups/staging-20261202T100000Z.dump', path: '/r/backups/staging-20261202T100000Z.dump', bytes: 2048, takenAt: new Date('2026-12-02T10:00:00Z'), environment: 'staging', chosen: 'given' },
    preserved: ['rollout.ledger'],
    appliedSince: [{ id: 'migrations/0007_x.sql', appliedAt: new Date('2026-12-02T10:00:05.123Z') }],
  };

  it('warns when the file is another environment\'s backup and prints the exact command that confirms it', () => {
    const text = renderRestorePlan(plan).join('\n');
    expect(text).toContain('WARNING   its name says it is a backup of environment "staging", not "production"');
    expect(text).toContain('(taken 2026-12-02T10:00:00Z, 2.0 KiB; given by --backup)');
    expect(text).toContain('migrations/0007_x.sql (applied 2026-12-02T10:00:05Z)');
    expect(text).toContain('Nothing was changed. To restore: rollout restore --env production --backup backups/staging-20261202T100000Z.dump --yes');
    expect(renderRestorePlan({ ...plan, into: 'app_copy' }).join('\n')).toContain('--into app_copy --yes');
  });

  it('records every migration and flag the restore moved, and nothing it did not', () => {
    const before: Snapshot = { migrations: new Set(['m1', 'm2']), live: live({ a: 1, b: { x: true }, gone: 0 }, { b: ['canary', 25] }) };
    const after: Snapshot = { migrations: new Set(['m1']), live: live({ a: 1, b: { x: true }, back: 'v' }, { b: ['canary', 5] }) };
    expect(restoreChanges(before, after)).toEqual([
      { subject: 'migration', key: 'm2', action: 'unrecorded' },
      { subject: 'flag', key: 'b', action: 'restore', oldValue: { x: true }, newValue: { x: true }, oldStage: 'canary', newStage: 'canary', oldPercent: 25, newPercent: 5 },
      { subject: 'flag', key: 'back', action: 'restore', oldValue: null, newValue: 'v', oldStage: null, newStage: null, oldPercent: null, newPercent: null },
      { subject: 'flag', key: 'gone', action: 'restore', oldValue: 0, newValue: null, oldStage: null, newStage: null, oldPercent: null, newPercent: null },
    ]);
  });
});

describe('an unfinished restore', () => {
  const started: UnfinishedRestore = {
    id: 7,
    at: new Date('2026-12-03T10:00:00Z'),
    actor: 'ana',
    backup: 'backups/prod-20261203T095900Z.dump',
    sha256: 'ab'.repeat(32),
    option: '--backup',
    into: null,
  };

  it('names the entry, the file and its hash, and prints the command that finishes it', () => {
    const warning = unfinishedRestoreWarning('prod', started);
    expect(warning).toMatch(/^restore #7 of backups\/prod-20261203T095900Z\.dump \(sha256 abababababab…\), started 2026-12-03T10:00:00\.000Z by ana, has recorded no outcome/);
    expect(warning).toContain('the database holds all of that backup or none of it');
    expect(warning).toContain('run rollout restore --env prod --backup backups/prod-20261203T095900Z.dump --yes again');
  });

  it('reruns a dump made elsewhere with --from', () => {
    expect(unfinishedRestoreWarning('prod', { ...started, backup: 'ci/x.pgdump', option: '--from' })).toContain('run rollout restore --env prod --from ci/x.pgdump --yes again');
  });

  it('for --into: the environment\'s database was not touched; the rerun drops the new one it marked', () => {
    const warning = unfinishedRestoreWarning('prod', { ...started, into: 'prod_copy' });
    expect(warning).toContain(' into prod_copy, started ');
    expect(warning).toContain("prod's own database was not touched");
    expect(warning).toContain('run rollout restore --env prod --backup backups/prod-20261203T095900Z.dump --into prod_copy --yes again: it drops prod_copy, which that restore marked as its own');
    expect(warning).toContain('without that mark is refused, never dropped');
    expect(warning).not.toContain('DROP DATABASE');
  });
});
