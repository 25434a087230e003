/**
 * Keeping the evidence out of a restore: the lines of a `pg_restore --list` table of contents
 * that touch the preserved tables (store/tool-schema.ts: the ledger, its changes, the
 * measurements) are commented out, so `pg_restore --clean -L` neither drops nor reloads them.
 * Pure: the caller runs pg_restore and reads the names from the live catalog.
 *
 * A TOC line is `<dump id>; <catalog oid> <oid> <DESC> <namespace> <tag> <owner>`, where DESC
 * may hold spaces (TABLE DATA, FK CONSTRAINT, SEQUENCE SET) and the tag of a constraint or
 * trigger is `<table> <name>`; a comment's or grant's is `TABLE <name>` or `COLUMN <table>.<column>`.
 */

export interface PreservedObjects {
  schema: string;
  /** Tables whose live rows survive the restore. */
  tables: readonly string[];
  /** Indexes and sequences of those tables (their TOC tags are their own names). */
  relations: readonly string[];
  /** Functions their triggers call, with their argument list as the TOC writes it: `name()`. */
  functions: readonly string[];
}

/** Longest first, so that `SEQUENCE SET` is not read as `SEQUENCE` with namespace `SET`. */
const DESCS = [
  'SEQUENCE OWNED BY', 'DEFAULT ACL', 'FK CONSTRAINT', 'TABLE DATA', 'SEQUENCE SET', 'ROW SECURITY', 'CHECK CONSTRAINT',
  'CONSTRAINT', 'SEQUENCE', 'TRIGGER', 'FUNCTION', 'COMMENT', 'DEFAULT', 'POLICY', 'SCHEMA', 'INDEX', 'TABLE', 'RULE', 'ACL',
];

/** Entries whose tag starts with the table they belong to. */
const TABLE_PREFIXED = new Set(['CONSTRAINT', 'FK CONSTRAINT', 'CHECK CONSTRAINT', 'TRIGGER', 'DEFAULT', 'POLICY', 'ROW SECURITY', 'RULE']);

export interface TocEntry {
  desc: string;
  namespace: string;
  tag: string;
}

/** The DESC, namespace and tag of one TOC line (the owner is left on the tag's end); undefined for comments and blanks. */
export function parseTocLine(line: string): TocEntry | undefined {
  const match = /^\s*\d+;\s+\d+\s+\d+\s+(.*)$/.exec(line);
  if (!match) return undefined;
  const rest = match[1];
  const desc = DESCS.find((d) => rest.startsWith(`${d} `));
  if (!desc) return undefined;
  const after = rest.slice(desc.length + 1);
  const space = after.indexOf(' ');
  if (space < 0) return undefined;
  return { desc, namespace: after.slice(0, space), tag: after.slice(space + 1) };
}

/** True when the entry creates, fills, drops or describes one of the preserved objects. */
export function touchesPreserved(entry: TocEntry, keep: PreservedObjects): boolean {
  // The schema holds the preserved tables: --clean's DROP SCHEMA would fail on them.
  if (entry.desc === 'SCHEMA') return entry.namespace === '-' && tagIs(entry.tag, keep.schema);
  if (entry.namespace !== keep.schema) return false;
  const names = [...keep.tables, ...keep.relations, ...keep.functions];
  if (TABLE_PREFIXED.has(entry.desc)) return keep.tables.some((t) => entry.tag.startsWith(`${t} `));
  if (entry.desc === 'COMMENT' || entry.desc === 'ACL') {
    return names.some((n) => entry.tag.startsWith(`TABLE ${n} `) || entry.tag.startsWith(`SEQUENCE ${n} `) || entry.tag.startsWith(`FUNCTION ${n} `) || entry.tag.startsWith(`INDEX ${n} `))
      || keep.tables.some((t) => entry.tag.startsWith(`COLUMN ${t}.`));
  }
  return names.some((n) => tagIs(entry.tag, n));
}

/** The tag is exactly `name` followed by the owner. */
const tagIs = (tag: string, name: string): boolean => tag === name || tag.startsWith(`${name} `);

/** The list with the preserved objects' lines commented out (`;` starts a comment in a TOC list), and how many were. */
export function excludePreserved(list: string, keep: PreservedObjects): { list: string; excluded: number } {
  let excluded = 0;
  const lines = list.split('\n').map((line) => {
    const entry = parseTocLine(line);
    if (!entry || !touchesPreserved(entry, keep)) return line;
    excluded++;
    return `;${line}`;
  });
  return { list: lines.join('\n'), excluded };
}
