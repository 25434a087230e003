/**
 * Histories shaped like real applications' Prisma projects: a few hundred folders of mostly
 * small DDL in Prisma's own style (quoted names, a comment per step: -- CreateTable,
 * -- CreateIndex, -- AddForeignKey, -- AlterTable, -- CreateEnum, -- AlterEnum), a share of
 * hand-written CREATE INDEX CONCURRENTLY files (tens of them, some with several statements),
 * backfills with their own BEGIN/COMMIT, views and trigger functions, and now and then two
 * folders with the same timestamp. Deterministic: the same history on every run and machine.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RealMigration {
  /** The folder name: <14-digit timestamp>_<name>. */
  folder: string;
  sql: string;
  concurrently: number;
  ownTransaction: boolean;
}

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['project', 'trace', 'observation', 'score', 'dataset', 'prompt', 'user', 'membership', 'invite', 'api_key', 'session', 'comment', 'audit_log', 'job', 'media'];
const TYPES = ['TEXT', 'INTEGER', 'BOOLEAN NOT NULL DEFAULT false', 'TIMESTAMP(3)', 'JSONB', 'DOUBLE PRECISION', "TEXT NOT NULL DEFAULT ''", 'BIGINT'];

/** A stamp (YYYYMMDDHHMMSS) `minutes` after 2022-01-01. */
function stamp(minutes: number): string {
  const d = new Date(Date.UTC(2022, 0, 1) + minutes * 60_000);
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function generateRealShapedHistory(count: number, seed = 7): RealMigration[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const tables: { name: string; columns: string[] }[] = [];
  const enums: string[] = [];
  const history: RealMigration[] = [];
  let minutes = 0;
  let stampText = stamp(0);
  let previousName = '';
  for (let i = 1; i <= count; i += 1) {
    // Mostly hours to days apart; now and then two folders of one timestamp (two steps of one `migrate dev`).
    const same = i > 1 && next() < 0.03;
    if (!same) {
      minutes += 30 + Math.floor(next() * 60 * 24 * 2);
      stampText = stamp(minutes);
    }
    const roll = tables.length < 3 ? 0 : next();
    const table = tables.length > 0 ? pick(tables) : undefined;
    let name: string;
    const parts: string[] = [];
    let concurrently = 0;
    let ownTransaction = false;
    if (roll < 0.22) {
      const t = `${pick(WORDS)}_${i}`;
      const cols = ['id', 'created_at', 'updated_at', 'name', ...(next() < 0.5 ? ['metadata'] : [])];
      const ref = tables.length > 0 && next() < 0.7 ? pick(tables) : undefined;
      name = `add_${t}`;
      parts.push(
        `-- CreateTable\nCREATE TABLE "${t}" (\n    "id" TEXT NOT NULL,\n    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    "name" TEXT NOT NULL,${cols.includes('metadata') ? '\n    "metadata" JSONB,' : ''}${ref ? `\n    "${ref.name}_id" TEXT,` : ''}\n\n    CONSTRAINT "${t}_pkey" PRIMARY KEY ("id")\n);`,
        `-- CreateIndex\nCREATE INDEX "${t}_created_at_idx" ON "${t}"("created_at");`,
      );
      if (ref) {
        cols.push(`${ref.name}_id`);
        parts.push(`-- CreateIndex\nCREATE INDEX "${t}_${ref.name}_id_idx" ON "${t}"("${ref.name}_id");`);
        parts.push(`-- AddForeignKey\nALTER TABLE "${t}" ADD CONSTRAINT "${t}_${ref.name}_id_fkey" FOREIGN KEY ("${ref.name}_id") REFERENCES "${ref.name}"("id") ON DELETE CASCADE ON UPDATE CASCADE;`);
      }
      tables.push({ name: t, columns: cols });
    } else if (roll < 0.47 && table) {
      const n = 1 + Math.floor(next() * 3);
      name = `${table.name}_columns_${i}`;
      const adds: string[] = [];
      for (let k = 0; k < n; k += 1) {
        const column = `c${i}_${k}`;
        table.columns.push(column);
        adds.push(`ADD COLUMN     "${column}" ${pick(TYPES)}`);
      }
      parts.push(`-- AlterTable\nALTER TABLE "${table.name}" ${adds.join(',\n')};`);
    } else if (roll < 0.59 && table) {
      const column = pick(table.columns);
      name = `${table.name}_${column}_index`;
      parts.push(`-- CreateIndex\nCREATE INDEX "idx_${i}" ON "${table.name}"("${column}");`);
      if (next() < 0.3) parts.push(`-- CreateIndex\nCREATE INDEX "idx_${i}_b" ON "${table.name}"("name", "created_at" DESC);`);
    } else if (roll < 0.66 && table) {
      // Hand-written: Prisma cannot generate these; several per file are common.
      const n = 1 + Math.floor(next() * 3);
      name = `concurrent_indexes_${i}`;
      for (let k = 0; k < n; k += 1) {
        const t = pick(tables);
        parts.push(`CREATE INDEX CONCURRENTLY IF NOT EXISTS "cidx_${i}_${k}" ON "${t.name}"("${pick(t.columns)}");`);
      }
      concurrently = n;
    } else if (roll < 0.71 && table) {
      name = `backfill_${table.name}_${i}`;
      ownTransaction = true;
      parts.push(`BEGIN;\nALTER TABLE "${table.name}" ADD COLUMN "flag_${i}" BOOLEAN;\nUPDATE "${table.name}" SET "flag_${i}" = true WHERE "name" <> '';\nCOMMIT;`);
      table.columns.push(`flag_${i}`);
    } else if (roll < 0.78 && table) {
      if (enums.length === 0 || next() < 0.5) {
        const e = `Kind${i}`;
        enums.push(e);
        name = `add_enum_${i}`;
        parts.push(`-- CreateEnum\nCREATE TYPE "${e}" AS ENUM ('DRAFT', 'ACTIVE', 'ARCHIVED');`, `-- AlterTable\nALTER TABLE "${table.name}" ADD COLUMN     "kind_${i}" "${e}" NOT NULL DEFAULT 'DRAFT';`);
        table.columns.push(`kind_${i}`);
      } else {
        name = `enum_value_${i}`;
        parts.push(`-- AlterEnum\nALTER TYPE "${pick(enums)}" ADD VALUE 'VALUE_${i}';`);
      }
    } else if (roll < 0.84 && table) {
      // Only columns a migration added: seed rows rely on the defaults of the created ones.
      const added = table.columns.filter((c) => /^c\d+_\d+$/.test(c));
      name = `${table.name}_defaults_${i}`;
      parts.push(
        added.length > 0
          ? `-- AlterTable\nALTER TABLE "${table.name}" ALTER COLUMN "${pick(added)}" DROP DEFAULT;`
          : `-- AlterTable\nALTER TABLE "${table.name}" ALTER COLUMN "name" SET DEFAULT '';`,
      );
    } else if (roll < 0.9 && table) {
      name = `view_${i}`;
      parts.push(`CREATE OR REPLACE VIEW "v_${i}" AS\nSELECT "id", "name", "created_at" FROM "${table.name}";`);
    } else if (roll < 0.95 && table) {
      name = `touch_${table.name}_${i}`;
      parts.push(
        `CREATE OR REPLACE FUNCTION "touch_${i}"() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW."updated_at" = now();\n  RETURN NEW;\nEND;\n$$;`,
        `CREATE TRIGGER "touch_${i}" BEFORE UPDATE ON "${table.name}" FOR EACH ROW EXECUTE FUNCTION "touch_${i}"();`,
      );
    } else {
      const t = table ?? tables[0];
      name = `seed_${i}`;
      parts.push(`INSERT INTO "${t.name}" ("id", "name", "updated_at") SELECT 'seed-${i}-' || g, 'seed ' || g, now() FROM generate_series(1, 20) AS g;`);
    }
    // A second folder of one timestamp sorts after the first by name, as Prisma's do (traces_view, traces_view_improvement).
    if (same) name = `${previousName}_${name}`;
    // Now and then a name typed with spaces.
    else if (next() < 0.02) name = name.replace(/_/g, ' ');
    previousName = name;
    history.push({ folder: `${stampText}_${name}`, sql: `${parts.join('\n\n')}\n`, concurrently, ownTransaction });
  }
  return history;
}

/** Write the history as a Prisma migrations folder; returns the migration.sql paths in Prisma's order (as the Prisma CLI sorts them). */
export async function writePrismaLayout(dir: string, history: readonly RealMigration[]): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'migration_lock.toml'), '# Please do not edit this file manually\nprovider = "postgresql"\n');
  for (const m of history) {
    await mkdir(join(dir, m.folder), { recursive: true });
    await writeFile(join(dir, m.folder, 'migration.sql'), m.sql);
  }
  return history
    .map((m) => m.folder)
    .sort((a, b) => a.localeCompare(b))
    .map((folder) => join(dir, folder, 'migration.sql'));
}
