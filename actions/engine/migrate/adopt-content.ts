/**
 * Does a file hold what the other tool applied? Each tool stored something different:
 *
 * - Prisma: sha256 of migration.sql, compared as Prisma's schema engine compares it (the
 *   bytes as they are, with CRLF → LF and with LF → CRLF, and the unpadded hex an old engine
 *   wrote: prisma-engines checksum.rs);
 * - Flyway: CRC32 over the file's lines without their line breaks, BOM removed, as a signed
 *   32-bit integer (Flyway's checksum calculator);
 * - Supabase: the file's statements; compared as parse trees (comments, whitespace and the
 *   final semicolons do not count);
 * - dbmate and node-pg-migrate store nothing of the content. For them the database itself is
 *   the evidence (schemaEvidence): every table, column, index, view and enum type the adopted
 *   files create, and no later adopted file drops or renames, must exist.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type pg from 'pg';
import type { ForeignContent } from './adopt-sources.ts';
import { loadParser, rawParser } from './statements.ts';

export type ContentVerdict = { kind: 'match'; how: string } | { kind: 'differs'; why: string } | { kind: 'not-stored' };

export async function compareContent(sql: string, content: ForeignContent): Promise<ContentVerdict> {
  switch (content.kind) {
    case 'sha256':
      return prismaChecksumMatches(sql, content.checksum)
        ? { kind: 'match', how: 'sha256 matches' }
        : { kind: 'differs', why: `its sha256 is ${sha256Hex(sql).slice(0, 12)}…, Prisma recorded ${content.checksum.slice(0, 12)}…` };
    case 'crc32': {
      const ours = flywayChecksum(sql);
      return ours === content.checksum ? { kind: 'match', how: 'checksum matches' } : { kind: 'differs', why: `its Flyway checksum is ${ours}, Flyway recorded ${content.checksum}` };
    }
    case 'statements':
      return (await sameStatements(sql, content.statements))
        ? { kind: 'match', how: 'statements match' }
        : { kind: 'differs', why: `its statements differ from the ${content.statements.length} Supabase recorded` };
    case 'none':
      return { kind: 'not-stored' };
  }
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
/** Each byte as hex without its leading zero: what a Prisma schema engine once wrote (prisma-engines issue 1887). */
const unpaddedHex = (text: string): string => [...createHash('sha256').update(text, 'utf8').digest()].map((b) => b.toString(16)).join('');

export function prismaChecksumMatches(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\n/g, '\r\n')];
  return variants.some((text) => (checksum.length === 64 ? sha256Hex(text) : unpaddedHex(text)) === checksum);
}

/** Flyway's checksum: CRC32 updated with each line's UTF-8 bytes (line breaks \n, \r, \r\n dropped), BOM removed; signed. */
export function flywayChecksum(sql: string): number {
  const lines = sql.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  // BufferedReader.readLine() yields no empty last line for a text that ends with a line break.
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  let crc = 0;
  for (const line of lines) crc = crc32(Buffer.from(line, 'utf8'), crc);
  return crc | 0;
}

interface ParsedStatements {
  stmts?: { stmt: unknown }[];
}

/** Parse trees without positions: equal when the SQL is the same up to whitespace and comments. */
async function parseTrees(sql: string): Promise<string[] | undefined> {
  await loadParser();
  try {
    const parsed = rawParser()(sql) as ParsedStatements;
    return (parsed.stmts ?? []).map((s) => JSON.stringify(s.stmt, (key, value: unknown) => (key === 'location' ? undefined : value)));
  } catch {
    return undefined;
  }
}

async function sameStatements(sql: string, statements: readonly string[]): Promise<boolean> {
  const ours = await parseTrees(sql);
  const theirs = await parseTrees(statements.map((s) => `${s}\n;`).join('\n'));
  if (ours && theirs) return ours.length === theirs.length && ours.every((tree, i) => tree === theirs[i]);
  const squeeze = (text: string): string => text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').replace(/[\s;]+/g, ' ').trim();
  return squeeze(sql) === squeeze(statements.join(';'));
}

// ---- schema evidence -------------------------------------------------------------------

interface Node {
  [key: string]: unknown;
}

/** What a file creates, as keys: table:s.t, column:s.t.c, index:s.i, view:s.v, type:s.e ('' schema = unqualified). */
interface Expectation {
  key: string;
  /** For messages: "column orders.note". */
  label: string;
  file: string;
}

const qualify = (rel: Node | undefined): { schema: string; name: string } | undefined =>
  rel && typeof rel.relname === 'string' ? { schema: typeof rel.schemaname === 'string' ? rel.schemaname : '', name: rel.relname } : undefined;
const shown = (schema: string, name: string): string => (schema ? `${schema}.${name}` : name);
const stringsOf = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((item) => ((item as { String?: { sval?: string } }).String?.sval ?? '')).filter((s) => s !== '') : [];

/** Which objects the files (in the order they ran) create and leave in place. */
export async function expectedObjects(files: readonly { path: string; sql: string }[]): Promise<Expectation[]> {
  await loadParser();
  const expected = new Map<string, Expectation>();
  const expect = (key: string, label: string, file: string): void => void expected.set(key, { key, label, file });
  // Anything dropped or renamed later is no longer expected (a prefix removes a table's columns too).
  const forget = (prefix: string): void => {
    for (const key of [...expected.keys()]) if (key === prefix || key.startsWith(`${prefix}.`) || key.startsWith(`${prefix}:`)) expected.delete(key);
  };
  for (const file of files) {
    let stmts: { stmt: Record<string, Node> }[];
    try {
      stmts = ((rawParser()(file.sql) as { stmts?: { stmt: Record<string, Node> }[] }).stmts ?? []);
    } catch {
      continue; // Not parseable: nothing to expect (the tool ran it, so it was valid for the server).
    }
    for (const { stmt } of stmts) {
      const [type, node] = Object.entries(stmt)[0] ?? ['', {}];
      if (type === 'CreateStmt') {
        const rel = qualify(node.relation as Node);
        if (!rel) continue;
        expect(`table:${rel.schema}.${rel.name}`, `table ${shown(rel.schema, rel.name)}`, file.path);
        for (const element of (node.tableElts as Node[] | undefined) ?? []) {
          const column = (element.ColumnDef as Node | undefined)?.colname;
          if (typeof column === 'string') expect(`column:${rel.schema}.${rel.name}.${column}`, `column ${shown(rel.schema, rel.name)}.${column}`, file.path);
        }
      } else if (type === 'AlterTableStmt') {
        const rel = qualify(node.relation as Node);
        if (!rel) continue;
        for (const item of (node.cmds as Node[] | undefined) ?? []) {
          const cmd = item.AlterTableCmd as Node | undefined;
          if (cmd?.subtype === 'AT_AddColumn') {
            const column = ((cmd.def as Node | undefined)?.ColumnDef as Node | undefined)?.colname;
            if (typeof column === 'string') expect(`column:${rel.schema}.${rel.name}.${column}`, `column ${shown(rel.schema, rel.name)}.${column}`, file.path);
          } else if (cmd?.subtype === 'AT_DropColumn' && typeof cmd.name === 'string') {
            forget(`column:${rel.schema}.${rel.name}.${cmd.name}`);
          }
        }
      } else if (type === 'IndexStmt' && typeof node.idxname === 'string') {
        const rel = qualify(node.relation as Node);
        expect(`index:${rel?.schema ?? ''}.${node.idxname}`, `index ${shown(rel?.schema ?? '', node.idxname)}`, file.path);
      } else if (type === 'ViewStmt') {
        const rel = qualify(node.view as Node);
        if (rel) expect(`view:${rel.schema}.${rel.name}`, `view ${shown(rel.schema, rel.name)}`, file.path);
      } else if (type === 'CreateEnumStmt') {
        const names = stringsOf(node.typeName);
        const name = names.at(-1);
        if (name) expect(`type:${names.length > 1 ? names[0] : ''}.${name}`, `type ${names.join('.')}`, file.path);
      } else if (type === 'DropStmt') {
        const kind = { OBJECT_TABLE: 'table', OBJECT_INDEX: 'index', OBJECT_VIEW: 'view', OBJECT_MATVIEW: 'view', OBJECT_TYPE: 'type' }[String(node.removeType)];
        for (const object of (node.objects as Node[] | undefined) ?? []) {
          const names = stringsOf((object.List as Node | undefined)?.items ?? (object.TypeName as Node | undefined)?.names);
          const name = names.at(-1);
          if (!kind || !name) continue;
          forgetEverywhere(kind, name);
        }
      } else if (type === 'RenameStmt') {
        const rel = qualify(node.relation as Node);
        const kind = String(node.renameType);
        if (kind === 'OBJECT_COLUMN' && rel && typeof node.subname === 'string') forget(`column:${rel.schema}.${rel.name}.${node.subname}`);
        else if (rel) for (const prefix of ['table', 'view', 'index']) forgetEverywhere(prefix, rel.name);
        else for (const name of stringsOf(node.object && (node.object as Node).List ? ((node.object as Node).List as Node).items : undefined)) forgetEverywhere('type', name);
      }
    }
  }
  return [...expected.values()];

  /** A dropped or renamed name, in any schema (cheaper to expect less than to resolve search_path here). */
  function forgetEverywhere(kind: string, name: string): void {
    for (const key of [...expected.keys()]) {
      const [keyKind, rest = ''] = key.split(/:(.*)/s);
      const objectName = rest.split('.')[1];
      if ((keyKind === kind || (kind === 'table' && keyKind === 'column')) && objectName === name) expected.delete(key);
    }
  }
}

/** The expectations the database does not meet, each with the file that created the object. */
export async function missingObjects(client: pg.ClientBase, expected: readonly Expectation[]): Promise<Expectation[]> {
  if (expected.length === 0) return [];
  const { rows } = await client.query<{ key: string }>(
    `WITH path AS (SELECT unnest(current_schemas(false)) AS schema)
     SELECT 'table:' || n.nspname || '.' || c.relname AS key FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'f')
     UNION ALL SELECT 'view:' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
     UNION ALL SELECT 'index:' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')
     UNION ALL SELECT 'column:' || n.nspname || '.' || c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
     UNION ALL SELECT 'type:' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e'
     UNION ALL SELECT 'path:' || schema FROM path`,
  );
  const present = new Set(rows.map((r) => r.key));
  const searchPath = rows.filter((r) => r.key.startsWith('path:')).map((r) => r.key.slice(5));
  return expected.filter((e) => {
    const [kind, rest] = e.key.split(/:(.*)/s) as [string, string];
    if (!rest.startsWith('.')) return !present.has(e.key);
    // Unqualified: wherever search_path finds it.
    return !searchPath.some((schema) => present.has(`${kind}:${schema}${rest}`));
  });
}
