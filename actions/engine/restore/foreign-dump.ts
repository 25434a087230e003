/**
 * `rollout restore --from FILE`: a dump made elsewhere (seed 003's "Restore from CI Dump"), not
 * one apply took. Only a pg_dump custom-format archive (`pg_dump -Fc`), recognised by its
 * content, not its name: it restores as apply's own backups do (pg_restore --clean
 * --single-transaction, the ledger and measurements kept), and its sha256 goes in the ledger
 * entry so that which file was restored can be told later. A plain SQL dump is refused: it is
 * a script psql would run statement by statement (meta-commands, COPY from stdin), outside one
 * transaction and past every guard, and pg_restore cannot read it.
 */
import { open, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Environment } from '../config/model.ts';
import { UserError } from '../errors.ts';
import { fileSha256 } from './file-hash.ts';
import type { ChosenBackup } from './restore-plan.ts';

/** The first bytes of every pg_dump custom-format archive. */
const CUSTOM_MAGIC = 'PGDMP';

export type DumpFormat = 'custom' | 'plain' | 'unknown';

/** What a file's first bytes say it is. */
export function dumpFormatOf(head: Buffer): DumpFormat {
  if (head.subarray(0, CUSTOM_MAGIC.length).toString('latin1') === CUSTOM_MAGIC) return 'custom';
  const text = head.toString('utf8');
  // pg_dump's plain format opens with its comment header; a hand-written script with SQL.
  if (/^\uFEFF?\s*(--|\/\*|SET\s|CREATE\s|BEGIN|INSERT\s|SELECT\s|\\)/i.test(text)) return 'plain';
  return 'unknown';
}

export async function chooseForeignDump(request: { root: string; env: Environment; from: string; cwd?: string }): Promise<ChosenBackup> {
  const { env, from } = request;
  const cwd = request.cwd ?? process.cwd();
  const path = resolve(cwd, from);
  if (env.database.kind !== 'url') {
    throw new UserError(
      `--from ${from}: environment "${env.name}" has ${env.database.kind === 'fleet' ? 'a fleet of databases; restore one target with --env ' + env.name + '/<target>' : 'an embedded database, which restores only copies of its own data directory (--backup)'}. ` +
        'A pg_dump archive restores into a server database (database: { url_env: … }).',
    );
  }
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new UserError(`--from ${from}: ${info ? 'not a file' : 'no such file'} (${path}). Name a pg_dump custom-format archive (pg_dump -Fc -f FILE).`);
  const handle = await open(path, 'r');
  const head = Buffer.alloc(64);
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const format = dumpFormatOf(head);
  if (format === 'plain') {
    throw new UserError(
      `--from ${from} is a plain SQL dump. rollout restores pg_dump custom-format archives only: all of it in one transaction, with the ledger and measurements kept; ` +
        'a plain script would run statement by statement past every guard. Make one with pg_dump -Fc -f dump.file (or load the script into a scratch database with psql and pg_dump -Fc that).',
    );
  }
  if (format === 'unknown') {
    throw new UserError(`--from ${from} is not a pg_dump custom-format archive (it does not start with ${CUSTOM_MAGIC}). Make one with pg_dump -Fc -f dump.file.`);
  }
  const within = (base: string): string => {
    const rel = relative(base, path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };
  return { display: within(request.root), argument: within(cwd), path, bytes: info.size, takenAt: null, environment: null, chosen: 'from', sha256: await fileSha256(path) };
}
