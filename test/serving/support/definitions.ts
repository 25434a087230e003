/**
 * Writing flag definitions for the readers' tests (provider, flagd export), and the databases
 * they run on.
 *
 * FIXTURE OF THE CONTRACT — not the engine's writer. DEFINITIONS_FIXTURE_SQL creates
 * rollout.flag_definitions exactly as /work/coord/serving-design.md (docs/serving.md)
 * specifies it — columns (key, value, off_value, stage, percent, segments, override,
 * kill_switch, ledger_id, updated_at), percent numeric, ledger_id bigint — and
 * writeDefinitions() changes it the way apply, revert and break-glass do: one transaction
 * per ledger entry, with pg_notify('rollout_flags', '{"ledger_id": N, "keys": [...]}')
 * inside it. Every test writes through writeDefinitions/removeDefinitions only, so switching
 * to the engine's real writer (store/flag-writer.ts commitFlagChanges) is a change here.
 */
import pg from 'pg';
import type { FlagDefinition } from '../../../packages/provider/src/definition.ts';
import { openDatabase, type Database } from '../../../actions/engine/db/index.ts';
import { databaseTargets, type TestDatabase } from '../../support/databases.ts';

export const DEFINITIONS_FIXTURE_SQL = `
CREATE SCHEMA IF NOT EXISTS rollout;
CREATE TABLE IF NOT EXISTS rollout.fixture_ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS rollout.fixture_definitions (
  key text PRIMARY KEY,
  value jsonb,
  off_value jsonb,
  stage text,
  percent numeric,
  segments jsonb,
  override jsonb,
  kill_switch boolean NOT NULL DEFAULT false,
  ledger_id bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE VIEW rollout.flag_definitions AS
  SELECT key, value, off_value, stage, percent, segments, override, kill_switch, ledger_id, updated_at
    FROM rollout.fixture_definitions;
`;

/** The payload the writer sends: the changed keys, or none when they would not fit in ~7,000 bytes. */
export function noticePayload(ledgerId: number, keys: readonly string[]): string {
  const withKeys = JSON.stringify({ ledger_id: ledgerId, keys });
  return Buffer.byteLength(withKeys) <= 7000 ? withKeys : JSON.stringify({ ledger_id: ledgerId });
}

export async function installDefinitions(client: pg.ClientBase): Promise<void> {
  await client.query(DEFINITIONS_FIXTURE_SQL);
}

export interface WriteOptions {
  /** Keys to remove in the same ledger entry. */
  remove?: readonly string[];
  /** Send the NOTIFY (default true); false models a writer whose notice was lost. */
  notify?: boolean;
}

/** Write definitions (and removals) as one ledger entry, with its NOTIFY; returns the ledger id. */
export async function writeDefinitions(client: pg.ClientBase, definitions: readonly FlagDefinition[], options: WriteOptions = {}): Promise<number> {
  const removed = options.remove ?? [];
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ id: string }>('INSERT INTO rollout.fixture_ledger DEFAULT VALUES RETURNING id');
    const ledgerId = Number(rows[0].id);
    if (definitions.length > 0) {
      await client.query(
        `INSERT INTO rollout.fixture_definitions (key, value, off_value, stage, percent, segments, override, kill_switch, ledger_id, updated_at)
         SELECT d.key, d.value, d.off_value, d.stage, d.percent, d.segments, d.override, d.kill_switch, $2, clock_timestamp()
           FROM jsonb_to_recordset($1::jsonb) AS d(key text, value jsonb, off_value jsonb, stage text, percent numeric, segments jsonb, override jsonb, kill_switch boolean)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, off_value = EXCLUDED.off_value, stage = EXCLUDED.stage, percent = EXCLUDED.percent,
           segments = EXCLUDED.segments, override = EXCLUDED.override, kill_switch = EXCLUDED.kill_switch, ledger_id = EXCLUDED.ledger_id, updated_at = EXCLUDED.updated_at`,
        [JSON.stringify(definitions.map(toRow)), ledgerId],
      );
    }
    if (removed.length > 0) await client.query('DELETE FROM rollout.fixture_definitions WHERE key = ANY($1::text[])', [removed]);
    if (options.notify !== false) await client.query(`SELECT pg_notify('rollout_flags', $1)`, [noticePayload(ledgerId, [...definitions.map((d) => d.key), ...removed])]);
    await client.query('COMMIT');
    return ledgerId;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export function removeDefinitions(client: pg.ClientBase, keys: readonly string[]): Promise<number> {
  return writeDefinitions(client, [], { remove: keys });
}

/** A row the engine could never write (a broken hand edit, a newer format): for PARSE_ERROR tests. */
export async function writeRawRow(client: pg.ClientBase, key: string, columns: { value?: unknown; off_value?: unknown; stage?: string | null; percent?: unknown; segments?: unknown }): Promise<number> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ id: string }>('INSERT INTO rollout.fixture_ledger DEFAULT VALUES RETURNING id');
    const ledgerId = Number(rows[0].id);
    await client.query(
      `INSERT INTO rollout.fixture_definitions (key, value, off_value, stage, percent, segments, ledger_id, updated_at)
       VALUES ($1, $2::jsonb, $3::jsonb, $4, $5::numeric, $6::jsonb, $7, clock_timestamp())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, off_value = EXCLUDED.off_value, stage = EXCLUDED.stage, percent = EXCLUDED.percent,
         segments = EXCLUDED.segments, ledger_id = EXCLUDED.ledger_id, updated_at = EXCLUDED.updated_at`,
      [key, json(columns.value), json(columns.off_value), columns.stage ?? null, columns.percent ?? null, json(columns.segments), ledgerId],
    );
    await client.query(`SELECT pg_notify('rollout_flags', $1)`, [noticePayload(ledgerId, [key])]);
    await client.query('COMMIT');
    return ledgerId;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

function toRow(definition: FlagDefinition): Record<string, unknown> {
  return {
    key: definition.key,
    value: definition.value,
    off_value: definition.offValue,
    stage: definition.stage,
    percent: definition.percent,
    segments: definition.segments,
    override: definition.override ?? null,
    kill_switch: definition.killSwitch,
  };
}

/** A database a service can connect to: its URL, and a client for the test to write with. */
export interface ServingDatabase {
  name: 'embedded' | 'server';
  /** What a service would put in its configuration. */
  url: string;
  writer: pg.Client;
  /** Whether a NOTIFY reaches other connections (not on PGlite: one session behind the socket). */
  notifies: boolean;
  dispose(): Promise<void>;
}

export interface ServingTarget {
  name: 'embedded' | 'server';
  open(): Promise<ServingDatabase>;
}

/** The embedded database (served over pglite-socket, as the CLI serves it) always; the server when TEST_DATABASE_URL is set. */
export function servingTargets(): ServingTarget[] {
  return databaseTargets().map((target) => ({
    name: target.name,
    async open() {
      const db = await target.create();
      let opened: Database | undefined;
      try {
        let url: string;
        let writer: pg.Client;
        if (db.url) {
          url = db.url;
          writer = new pg.Client({ connectionString: url });
          await writer.connect();
        } else {
          opened = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
          writer = await opened.connect();
          url = `postgres://postgres@${writer.host}:${writer.port}/postgres`;
        }
        await installDefinitions(writer);
        const database = opened;
        return {
          name: target.name,
          url,
          writer,
          notifies: target.name === 'server',
          async dispose() {
            await writer.end().catch(() => undefined);
            await database?.close();
            await disposeQuietly(db);
          },
        };
      } catch (error) {
        await opened?.close();
        await disposeQuietly(db);
        throw error;
      }
    },
  }));
}

async function disposeQuietly(db: TestDatabase): Promise<void> {
  await db.dispose().catch(() => undefined);
}

/**
 * Run `fn` with a client on a test database, then let go of it: an embedded database is
 * closed again, so that the CLI can open it (one process at a time holds a data directory).
 */
export async function withWriter<T>(db: TestDatabase, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (db.url) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const opened = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
  try {
    return await fn(await opened.connect());
  } finally {
    await opened.close();
  }
}
