/**
 * A deterministic history of N migrations in the style of a real application: tables
 * with foreign keys, added columns, indexes (some CONCURRENTLY), views, functions and
 * triggers, enums and added enum values, seed rows, RLS policies, and some files that
 * carry their own BEGIN/COMMIT. Written once per tool in the layout that tool reads.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface GeneratedMigration {
  version: string;
  name: string;
  statements: string[];
  /** Needs to run outside a transaction (CONCURRENTLY). */
  nonTransactional: boolean;
  /** Carries its own BEGIN/COMMIT. */
  ownTransaction: boolean;
}

/** Small deterministic PRNG (mulberry32): the same history on every run and machine. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateHistory(count: number, seed = 42): GeneratedMigration[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const tables: string[] = [];
  const enums: string[] = [];
  const history: GeneratedMigration[] = [];
  for (let i = 1; i <= count; i += 1) {
    const version = String(i).padStart(4, '0');
    const roll = tables.length === 0 ? 0 : next();
    const t = tables.length > 0 ? pick(tables) : '';
    let name: string;
    let statements: string[];
    let nonTransactional = false;
    let ownTransaction = false;
    if (roll < 0.15) {
      const table = `t_${i}`;
      const ref = tables.length > 0 ? `,\n  parent_id bigint REFERENCES ${pick(tables)} (id)` : '';
      name = `create_${table}`;
      statements = [
        `CREATE TABLE ${table} (\n  id bigserial PRIMARY KEY${ref},\n  name text NOT NULL,\n  status text NOT NULL DEFAULT 'new',\n  payload jsonb NOT NULL DEFAULT '{}',\n  created_at timestamptz NOT NULL DEFAULT now(),\n  updated_at timestamptz\n);`,
        `CREATE INDEX ${table}_created_at_idx ON ${table} (created_at);`,
        `COMMENT ON TABLE ${table} IS 'Generated table ${i}';`,
      ];
      tables.push(table);
    } else if (roll < 0.35) {
      name = `add_column_${i}_to_${t}`;
      statements = [`ALTER TABLE ${t} ADD COLUMN c_${i} ${pick(['text', 'integer', 'boolean NOT NULL DEFAULT false', 'numeric(12,2)', "timestamptz DEFAULT now()"])};`];
    } else if (roll < 0.45) {
      name = `index_${i}_on_${t}`;
      statements = [`CREATE INDEX idx_${i} ON ${t} (status, created_at);`];
    } else if (roll < 0.5) {
      name = `index_concurrently_${i}_on_${t}`;
      // One statement per file: dbmate and node-pg-migrate send a file as one query, and two CONCURRENTLY in one query fail.
      statements = [`CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_${i} ON ${t} (name);`];
      nonTransactional = true;
    } else if (roll < 0.58) {
      name = `view_${i}`;
      statements = [`CREATE OR REPLACE VIEW v_${i} AS\n  SELECT id, name, status, created_at\n  FROM ${t}\n  WHERE status <> 'deleted';`];
    } else if (roll < 0.66) {
      name = `touch_trigger_${i}_on_${t}`;
      statements = [
        `CREATE OR REPLACE FUNCTION touch_${i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$;`,
        `CREATE TRIGGER touch_${i} BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION touch_${i}();`,
      ];
    } else if (roll < 0.71) {
      if (enums.length === 0 || next() < 0.5) {
        name = `enum_${i}`;
        statements = [`CREATE TYPE e_${i} AS ENUM ('draft', 'active', 'archived');`, `ALTER TABLE ${t} ADD COLUMN kind_${i} e_${i} NOT NULL DEFAULT 'draft';`];
        enums.push(`e_${i}`);
      } else {
        name = `enum_value_${i}`;
        statements = [`ALTER TYPE ${pick(enums)} ADD VALUE IF NOT EXISTS 'value_${i}';`];
      }
    } else if (roll < 0.86) {
      name = `seed_${i}_${t}`;
      statements = [`INSERT INTO ${t} (name, status)\nSELECT 'seed ' || g, CASE WHEN g % 3 = 0 THEN 'active' ELSE 'new' END\nFROM generate_series(1, 200) AS g;`];
    } else if (roll < 0.9) {
      name = `backfill_${i}_${t}`;
      statements = ['BEGIN;', `UPDATE ${t} SET status = 'active' WHERE status = 'new' AND id % 7 = 0;`, `ALTER TABLE ${t} ADD COLUMN flag_${i} boolean;`, 'COMMIT;'];
      ownTransaction = true;
    } else {
      name = `rls_${i}_${t}`;
      statements = [`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY;`, `CREATE POLICY p_${i} ON ${t} FOR SELECT USING (status <> 'deleted');`];
    }
    history.push({ version, name, statements, nonTransactional, ownTransaction });
  }
  return history;
}

export const sqlText = (m: GeneratedMigration): string => `-- ${m.name}\n${m.statements.join('\n\n')}\n`;

/** Plain files: this tool and psql read the same ones. */
export async function writeSqlLayout(dir: string, history: readonly GeneratedMigration[]): Promise<string[]> {
  await fresh(dir);
  const paths: string[] = [];
  for (const m of history) {
    const path = join(dir, `${m.version}_${m.name}.sql`);
    await writeFile(path, sqlText(m));
    paths.push(path);
  }
  return paths;
}

/** dbmate: a `-- migrate:up` header; transaction:false where the file cannot (or will not) be wrapped. */
export async function writeDbmateLayout(dir: string, history: readonly GeneratedMigration[]): Promise<void> {
  await fresh(dir);
  for (const m of history) {
    const header = m.nonTransactional || m.ownTransaction ? '-- migrate:up transaction:false' : '-- migrate:up';
    await writeFile(join(dir, `${m.version}_${m.name}.sql`), `${header}\n${sqlText(m)}\n-- migrate:down\n`);
  }
}

/** node-pg-migrate: JS files; non-transactional statements go one pgm.sql each (a multi-statement string is a transaction block). */
export async function writeNodePgMigrateLayout(dir: string, history: readonly GeneratedMigration[]): Promise<void> {
  await fresh(dir);
  for (const m of history) {
    const body = m.nonTransactional
      ? ['  pgm.noTransaction();', ...m.statements.map((s) => `  pgm.sql(${JSON.stringify(s)});`)]
      : [...(m.ownTransaction ? ['  pgm.noTransaction();'] : []), `  pgm.sql(${JSON.stringify(sqlText(m))});`];
    await writeFile(join(dir, `${m.version}_${m.name}.mjs`), `export const up = (pgm) => {\n${body.join('\n')}\n};\n`);
  }
}

async function fresh(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}
