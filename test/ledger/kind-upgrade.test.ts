/** A ledger made by an older release accepts the kinds added since (auto-rollback, restore) once apply (or restore) upgrades the tool schema. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { openDatabase } from '../../actions/engine/db/index.ts';
import { ensureToolSchema } from '../../actions/engine/store/tool-schema.ts';

// The ledger as the first release created it: its kind check knew five kinds.
const FIRST_RELEASE = `CREATE SCHEMA rollout;
CREATE TABLE rollout.ledger (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, environment text NOT NULL, at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL CONSTRAINT ledger_kind_check CHECK (kind IN ('apply', 'rollback', 'break-glass', 'revert', 'baseline')),
  actor text NOT NULL, commit_sha text, pull_request integer, plan_hash text, outcome text NOT NULL, reason text, summary jsonb NOT NULL DEFAULT '{}'::jsonb);`;

describe.each(databaseTargets())('the ledger kind check on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
  });
  afterEach(() => db.dispose());

  it('is widened to auto-rollback and restore, and still refuses a kind nobody writes', async () => {
    const database = await openDatabase(db.env, { root: db.root, processEnv: db.processEnv });
    try {
      const client = await database.connect();
      await client.query(FIRST_RELEASE);
      const insert = (kind: string) => client.query("INSERT INTO rollout.ledger (environment, kind, actor, outcome) VALUES ('test', $1, 'me', 'ok')", [kind]);
      await expect(insert('restore')).rejects.toThrow(/ledger_kind_check/);
      await ensureToolSchema(client);
      await insert('restore');
      await insert('auto-rollback');
      await expect(insert('rewrite')).rejects.toThrow(/ledger_kind_check/);
    } finally {
      await database.close();
    }
  });
});
