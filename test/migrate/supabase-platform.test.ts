/**
 * database.platform: supabase (issue 12): a supabase/migrations history, written as real apps
 * write theirs, applies on the embedded database given stand-ins for the platform's objects;
 * without them it fails with a hint naming the setting; re-running converges; init writes it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { apply, query, rejection, withClient } from './support/migrations.ts';
import { cli } from '../support/cli.ts';
import { MigrationError } from '../../actions/engine/migrate/migration-error.ts';
import { ValidationError } from '../../actions/engine/errors.ts';
import { isMissingSupabaseObject } from '../../actions/engine/db/platform-supabase.ts';
import { readEnvironmentFile } from '../../actions/engine/config/environment-file.ts';
import { ContractRegistry } from '../../actions/engine/config/contracts.ts';
import type { Environment } from '../../actions/engine/config/model.ts';

// Several opens of an embedded database per test, each seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 180_000 });

/** A history shaped like the Supabase quickstarts and the apps built on them. */
const HISTORY: Record<string, string> = {
  '20240101000000_profiles.sql': `-- Profiles, one per auth user, created on sign-up.
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;

create table public.profiles (
  id uuid not null references auth.users on delete cascade,
  username text unique,
  full_name text,
  avatar_url text,
  updated_at timestamp with time zone,
  primary key (id)
);

alter table public.profiles enable row level security;

create policy "Public profiles are viewable by everyone." on public.profiles
  for select using (true);
create policy "Users can insert their own profile." on public.profiles
  for insert with check ((select auth.uid()) = id);
create policy "Users can update own profile." on public.profiles
  for update using ((select auth.uid()) = id);

create function public.handle_new_user()
returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, full_name, avatar_url)
  values (new.id, new.raw_user_meta_data->>'full_name', new.raw_user_meta_data->>'avatar_url');
  return new;
end;
$$;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();
`,
  '20240102000000_todos.sql': `create table public.todos (
  id uuid default uuid_generate_v4() primary key,
  user_id uuid references auth.users not null default auth.uid(),
  task text check (char_length(task) > 3),
  is_complete boolean default false,
  share_token text default encode(gen_random_bytes(8), 'hex'),
  inserted_at timestamp with time zone default timezone('utc'::text, now()) not null
);
alter table public.todos enable row level security;
create policy "Individuals can create todos." on public.todos for insert to authenticated
  with check ((select auth.uid()) = user_id);
create policy "Individuals can view their own todos." on public.todos for select to authenticated
  using ((select auth.uid()) = user_id);
create policy "Admins see everything." on public.todos for select to authenticated
  using ((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin');
grant select, insert, update, delete on public.todos to anon, authenticated, service_role;

alter publication supabase_realtime add table public.todos;

create policy "Owners hear their todos." on realtime.messages for select to authenticated
  using (realtime.topic() = 'todos:' || (select auth.uid())::text);

create trigger "todos_webhook" after insert on public.todos for each row
  execute function supabase_functions.http_request('https://example.com/hooks/todo', 'POST', '{"Content-type":"application/json"}', '{}', '1000');
`,
  '20240103000000_storage.sql': `insert into storage.buckets (id, name, public)
values ('avatars', 'avatars', true);

create policy "Avatar images are publicly accessible." on storage.objects
  for select using (bucket_id = 'avatars');
create policy "Anyone can upload an avatar into their folder." on storage.objects
  for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text) and storage.extension(name) in ('png', 'jpg'));
`,
};

/** The first migration `supabase db pull` writes: a pg_dump of the project, extensions PGlite lacks included. */
const REMOTE_SCHEMA = `SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

CREATE EXTENSION IF NOT EXISTS "pgsodium" WITH SCHEMA "pgsodium";

COMMENT ON SCHEMA "public" IS 'standard public schema';

CREATE EXTENSION IF NOT EXISTS "pg_graphql" WITH SCHEMA "graphql";

CREATE EXTENSION IF NOT EXISTS "pg_stat_statements" WITH SCHEMA "extensions";

CREATE EXTENSION IF NOT EXISTS "pgcrypto" WITH SCHEMA "extensions";

CREATE EXTENSION IF NOT EXISTS "pgjwt" WITH SCHEMA "extensions";

CREATE EXTENSION IF NOT EXISTS "supabase_vault" WITH SCHEMA "vault";

CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "extensions";

CREATE OR REPLACE FUNCTION "public"."current_team"() RETURNS "uuid"
    LANGUAGE "sql" STABLE
    SET "search_path" TO ''
    AS $$
  select nullif(current_setting('request.jwt.claims', true)::json ->> 'team_id', '')::uuid;
$$;

ALTER FUNCTION "public"."current_team"() OWNER TO "postgres";

SET default_tablespace = '';

SET default_table_access_method = "heap";

CREATE TABLE IF NOT EXISTS "public"."notes" (
    "id" "uuid" DEFAULT "extensions"."uuid_generate_v4"() NOT NULL,
    "owner" "uuid" DEFAULT "auth"."uid"() NOT NULL,
    "body" "text",
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL
);

ALTER TABLE "public"."notes" OWNER TO "postgres";

ALTER TABLE ONLY "public"."notes"
    ADD CONSTRAINT "notes_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "public"."notes"
    ADD CONSTRAINT "notes_owner_fkey" FOREIGN KEY ("owner") REFERENCES "auth"."users"("id") ON DELETE CASCADE;

CREATE POLICY "Owners read their notes" ON "public"."notes" FOR SELECT TO "authenticated" USING (("auth"."uid"() = "owner"));

ALTER TABLE "public"."notes" ENABLE ROW LEVEL SECURITY;

ALTER PUBLICATION "supabase_realtime" OWNER TO "postgres";

ALTER PUBLICATION "supabase_realtime" ADD TABLE ONLY "public"."notes";

GRANT USAGE ON SCHEMA "public" TO "postgres";
GRANT USAGE ON SCHEMA "public" TO "anon";
GRANT USAGE ON SCHEMA "public" TO "authenticated";
GRANT USAGE ON SCHEMA "public" TO "service_role";

GRANT ALL ON FUNCTION "public"."current_team"() TO "anon";
GRANT ALL ON FUNCTION "public"."current_team"() TO "authenticated";
GRANT ALL ON FUNCTION "public"."current_team"() TO "service_role";

GRANT ALL ON TABLE "public"."notes" TO "anon";
GRANT ALL ON TABLE "public"."notes" TO "authenticated";
GRANT ALL ON TABLE "public"."notes" TO "service_role";

ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON SEQUENCES TO "postgres";
ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES TO "anon";

RESET ALL;
`;

const ADA = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

async function writeHistory(root: string): Promise<void> {
  for (const [name, sql] of Object.entries(HISTORY)) {
    const path = join(root, 'supabase/migrations', name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, sql);
  }
}

/** The test database as an environment reading supabase/migrations, with or without the platform. */
function supabaseEnv(db: TestDatabase, platform: boolean): TestDatabase {
  const database = db.env.database;
  if (database.kind !== 'embedded') throw new Error('embedded only');
  const env: Environment = {
    ...db.env,
    database: { ...database, ...(platform ? { platform: 'supabase' as const } : {}) },
    migrations: { ...db.env.migrations, directory: 'supabase/migrations' },
  };
  return { ...db, env };
}

const embedded = databaseTargets().filter((target) => target.name === 'embedded');

describe.each(embedded)('a Supabase history on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create();
    await writeHistory(db.root);
  });
  afterEach(() => db.dispose());

  it('applies with platform: supabase, and its auth, RLS, storage and realtime parts work', async () => {
    const supabase = supabaseEnv(db, true);
    const report = await apply(supabase);
    expect(report.applied.map((m) => m.file.name)).toEqual(['profiles', 'todos', 'storage']);

    const rows = await withClient(supabase, async (client) => {
      const read = async <T,>(sql: string): Promise<T[]> => (await client.query(sql)).rows as T[];
      // Sign-up: GoTrue's insert fires the app's trigger.
      await client.query(`insert into auth.users (id, email, raw_user_meta_data) values ('${ADA}', 'ada@example.com', '{"full_name": "Ada"}'), ('${BOB}', 'bob@example.com', '{}')`);
      // A request as Ada: the role and claims PostgREST sets, inside one transaction.
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE authenticated; SELECT set_config('request.jwt.claims', '{"sub": "${ADA}", "role": "authenticated", "email": "ada@example.com"}', true)`);
      const whoami = await read<{ uid: string; role: string; email: string }>('SELECT auth.uid()::text AS uid, auth.role() AS role, auth.email() AS email');
      await client.query("INSERT INTO public.todos (task) VALUES ('write the docs')");
      const own = await read<{ task: string; user_id: string; token: string }>('SELECT task, user_id::text, share_token AS token FROM public.todos');
      const forged = await client.query(`INSERT INTO public.todos (task, user_id) VALUES ('not mine', '${BOB}')`).then(
        () => 'inserted',
        (error: Error) => error.message,
      );
      await client.query('ROLLBACK');
      return {
        whoami,
        own,
        forged,
        profiles: await read<{ id: string; full_name: string | null }>('SELECT id::text, full_name FROM public.profiles ORDER BY id'),
        buckets: await read<{ id: string; public: boolean }>('SELECT id, public FROM storage.buckets'),
        paths: await read<{ folders: string[]; file: string; ext: string }>("SELECT storage.foldername('ada/2024/me.png') AS folders, storage.filename('ada/2024/me.png') AS file, storage.extension('ada/2024/me.png') AS ext"),
        published: await read<{ tablename: string }>("SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'"),
        searchPath: await read<{ search_path: string }>('SHOW search_path'),
        extensions: await read<{ extname: string; schema: string }>("SELECT extname, extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"),
      };
    });
    expect(rows.whoami).toEqual([{ uid: ADA, role: 'authenticated', email: 'ada@example.com' }]);
    expect(rows.own).toHaveLength(1);
    expect(rows.own[0]).toMatchObject({ task: 'write the docs', user_id: ADA });
    expect(rows.own[0].token).toMatch(/^[0-9a-f]{16}$/);
    expect(rows.forged).toMatch(/row-level security/);
    expect(rows.profiles).toEqual([
      { id: ADA, full_name: 'Ada' },
      { id: BOB, full_name: null },
    ]);
    expect(rows.buckets).toEqual([{ id: 'avatars', public: true }]);
    expect(rows.paths).toEqual([{ folders: ['ada', '2024'], file: 'me.png', ext: 'png' }]);
    expect(rows.published).toEqual([{ tablename: 'todos' }]);
    expect(rows.searchPath).toEqual([{ search_path: '"$user", public, extensions' }]);
    expect(rows.extensions).toEqual([
      { extname: 'pgcrypto', schema: 'extensions' },
      { extname: 'uuid-ossp', schema: 'extensions' },
    ]);
  });

  it('fails without the platform, at the first Supabase object, with a hint naming database.platform: supabase', async () => {
    const error = await rejection(apply(supabaseEnv(db, false)));
    expect(error).toBeInstanceOf(MigrationError);
    const failure = error as MigrationError;
    expect(failure.file).toBe('supabase/migrations/20240101000000_profiles.sql');
    expect(failure.postgresMessage).toBe('schema "extensions" does not exist');
    expect(failure.message).toContain('set database.platform: supabase in environments/test.yaml');
    expect(await query(db, "SELECT 1 FROM pg_namespace WHERE nspname IN ('auth', 'storage', 'extensions')")).toEqual([]);
  });

  it('applies a `supabase db pull` dump first, its extensions PGlite lacks made as empty stand-ins', async () => {
    await writeFile(join(db.root, 'supabase/migrations/20231231000000_remote_schema.sql'), REMOTE_SCHEMA);
    const supabase = supabaseEnv(db, true);
    const report = await apply(supabase);
    expect(report.applied.map((m) => m.file.name)).toEqual(['remote_schema', 'profiles', 'todos', 'storage']);
    const extensions = await query<{ extname: string; schema: string }>(
      supabase,
      "SELECT extname, extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1",
    );
    expect(extensions).toEqual([
      { extname: 'pg_graphql', schema: 'graphql' },
      { extname: 'pg_stat_statements', schema: 'extensions' },
      { extname: 'pgcrypto', schema: 'extensions' },
      { extname: 'pgjwt', schema: 'extensions' },
      { extname: 'pgsodium', schema: 'pgsodium' },
      { extname: 'supabase_vault', schema: 'vault' },
      { extname: 'uuid-ossp', schema: 'extensions' },
    ]);
    // The dump's SET search_path = '' did not outlive its file: the next files found uuid_generate_v4() through extensions.
    expect(await query(supabase, "SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime' ORDER BY 1")).toEqual([
      { tablename: 'notes' },
      { tablename: 'todos' },
    ]);
    // Without the platform, the dump is refused before anything runs, with the setting to use.
    const bare = await target.create();
    try {
      await writeHistory(bare.root);
      await writeFile(join(bare.root, 'supabase/migrations/20231231000000_remote_schema.sql'), REMOTE_SCHEMA);
      const error = (await rejection(apply(supabaseEnv(bare, false)))) as ValidationError;
      expect(error).toBeInstanceOf(ValidationError);
      const graphql = error.problems.find((p) => p.message.includes('"pg_graphql"'));
      expect(graphql?.message).toContain('set database.platform: supabase in environments/test.yaml');
      expect(error.problems.map((p) => p.message.match(/Extension "([^"]+)"/)?.[1])).toEqual(['pgsodium', 'pg_graphql', 'pgjwt', 'supabase_vault']);
    } finally {
      await bare.dispose();
    }
  });

  it('records pg_cron jobs and pg_net requests (database webhooks) the history makes, runs and sends none', async () => {
    await writeFile(
      join(db.root, 'supabase/migrations/20240301000000_jobs.sql'),
      [
        'create extension if not exists pg_cron with schema pg_catalog;',
        'create extension if not exists pg_net with schema extensions;',
        "select cron.schedule('purge-done', '0 3 * * *', $$delete from public.todos where is_complete$$);",
        "select cron.schedule('purge-done', '30 3 * * *', $$delete from public.todos where is_complete$$);",
        "select cron.schedule('*/5 * * * *', $$select 1$$);",
        "select cron.unschedule('nope') where false;",
        'create function public.todo_webhook() returns trigger language plpgsql as $fn$',
        'begin',
        "  perform net.http_post(url := 'https://hooks.example.test/todo', body := jsonb_build_object('id', new.id), params := '{\"v\": \"2\"}');",
        '  return new;',
        'end',
        '$fn$;',
        'create trigger todo_created after insert on public.todos for each row execute function public.todo_webhook();',
        '',
      ].join('\n'),
    );
    const supabase = supabaseEnv(db, true);
    await apply(supabase);
    expect(await query(supabase, 'SELECT jobname, schedule, active FROM cron.job ORDER BY jobid')).toEqual([
      { jobname: 'purge-done', schedule: '30 3 * * *', active: true },
      { jobname: null, schedule: '*/5 * * * *', active: true },
    ]);
    const [user] = await query<{ id: string }>(supabase, "INSERT INTO auth.users (id, email) VALUES (gen_random_uuid(), 'a@example.test') RETURNING id");
    const [todo] = await query<{ id: string }>(supabase, `INSERT INTO public.todos (user_id, task) VALUES ('${user?.id}', 'write the test') RETURNING id`);
    const requests = await query<{ method: string; url: string; body: string; headers: unknown }>(
      supabase,
      "SELECT method, url, convert_from(body, 'UTF8') AS body, headers FROM net.http_request_queue",
    );
    expect(requests).toEqual([{ method: 'POST', url: 'https://hooks.example.test/todo?v=2', body: `{"id": "${todo?.id}"}`, headers: { 'Content-Type': 'application/json' } }]);
    expect(await query(supabase, "SELECT cron.unschedule('purge-done') AS done")).toEqual([{ done: true }]);
    const missing = await rejection(query(supabase, "SELECT cron.unschedule('purge-done')"));
    expect(missing.message).toContain("could not find valid entry for job 'purge-done'");
  });

  it('converges: a second apply runs nothing, and a data directory set up by an older stand-in is completed, not rebuilt', async () => {
    const supabase = supabaseEnv(db, true);
    expect((await apply(supabase)).applied).toHaveLength(3);
    await query(supabase, `insert into auth.users (id, email) values ('${ADA}', 'ada@example.com')`);
    expect((await apply(supabase)).applied).toEqual([]);
    // As an older version's marker (or none) reads: the next open runs the whole setup again, over what exists.
    await query(supabase, 'COMMENT ON SCHEMA auth IS NULL');
    expect((await apply(supabase)).applied).toEqual([]);
    const after = await query<{ users: number; profiles: number; buckets: number; marker: string | null; roles: number }>(
      supabase,
      `SELECT (SELECT count(*)::int FROM auth.users) AS users, (SELECT count(*)::int FROM public.profiles) AS profiles,
              (SELECT count(*)::int FROM storage.buckets) AS buckets, obj_description('auth'::regnamespace, 'pg_namespace') AS marker,
              (SELECT count(*)::int FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role', 'authenticator')) AS roles`,
    );
    expect(after).toEqual([{ users: 1, profiles: 1, buckets: 1, marker: expect.stringContaining('stand-in for the Supabase platform') as string, roles: 4 }]);
  });
});

describe.each(databaseTargets().filter((target) => target.name === 'server'))('a Supabase history on $name', (target) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await target.create({ migrations: { directory: 'supabase/migrations' } });
    await writeHistory(db.root);
  });
  afterEach(() => db.dispose());

  it('fails on a plain server with a hint to run it against a Supabase project', async () => {
    const error = (await rejection(apply(db))) as MigrationError;
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.postgresMessage).toBe('schema "extensions" does not exist');
    expect(error.message).toContain("run this history against a Supabase project's database");
    expect(error.message).not.toContain('platform: supabase');
  });
});

describe('isMissingSupabaseObject', () => {
  it.each([
    'schema "extensions" does not exist',
    'schema "auth" does not exist',
    'relation "auth.users" does not exist',
    'relation "storage.objects" does not exist',
    'function auth.uid() does not exist',
    'function uuid_generate_v4() does not exist',
    'function gen_random_bytes(integer) does not exist',
    'role "authenticated" does not exist',
    'role "supabase_auth_admin" does not exist',
    'publication "supabase_realtime" does not exist',
  ])('recognises %s', (message) => {
    expect(isMissingSupabaseObject(message)).toBe(true);
  });

  it.each(['relation "public.users" does not exist', 'schema "billing" does not exist', 'role "app_reader" does not exist', 'syntax error at or near "auth"'])(
    'leaves %s alone',
    (message) => {
      expect(isMissingSupabaseObject(message)).toBe(false);
    },
  );
});

describe('database.platform in an environment file', () => {
  const read = (database: string) =>
    readEnvironmentFile('environments/local.yaml', `version: 1\ndatabase:\n${database}`, new ContractRegistry('/nonexistent'), new Date('2026-11-20T10:00:00Z'));

  it('is read for an embedded database', () => {
    const loaded = read('  embedded: .rollout/local\n  platform: supabase\n');
    expect(loaded.problems).toEqual([]);
    expect(loaded.environment?.database).toEqual({ kind: 'embedded', dir: '.rollout/local', platform: 'supabase' });
    expect(read('  embedded: .rollout/local\n  platform: postgres\n').environment?.database).toEqual({ kind: 'embedded', dir: '.rollout/local' });
  });

  it('is refused, at its line, on a server', () => {
    const loaded = read('  url_env: LOCAL_DATABASE_URL\n  platform: supabase\n');
    expect(loaded.environment).toBeUndefined();
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatchObject({ file: 'environments/local.yaml', line: 4, severity: 'error' });
    expect(loaded.problems[0].message).toContain('applies to an embedded database only');
  });

  it('is asked for, with a warning, when an embedded database reads supabase/migrations without it', () => {
    const loaded = read('  embedded: .rollout/local\nmigrations:\n  directory: supabase/migrations\n');
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatchObject({ line: 3, severity: 'warning' });
    expect(loaded.problems[0].message).toContain('Add platform: supabase to this database');
    expect(loaded.environment).toBeDefined();
    expect(read('  embedded: .rollout/local\n  platform: postgres\nmigrations:\n  directory: supabase/migrations\n').problems).toEqual([]);
    expect(read('  embedded: .rollout/local\nmigrations:\n  directory: db/migrations\n').problems).toEqual([]);
  });

  it('accepts only postgres or supabase', () => {
    const loaded = read('  embedded: .rollout/local\n  platform: firebase\n');
    expect(loaded.problems.map((p) => p.line)).toEqual([4]);
  });
});

describe('rollout init in a Supabase project', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rollout-init-supabase-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes platform: supabase for the local environment only', async () => {
    await writeHistory(root);
    const run = await cli(['--root', root, 'init', '--env', 'staging', '--no-workflows']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('platform: supabase');
    const local = await readFile(join(root, 'environments/local.yaml'), 'utf8');
    const loaded = readEnvironmentFile('environments/local.yaml', local, new ContractRegistry(root), new Date('2026-11-20T10:00:00Z'));
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(loaded.environment?.database).toEqual({ kind: 'embedded', dir: '.rollout/local', platform: 'supabase' });
    expect(loaded.environment?.migrations.directory).toBe('supabase/migrations');
    expect(await readFile(join(root, 'environments/staging.yaml'), 'utf8')).not.toContain('platform:');
    // What init wrote is enough: the history applies through the CLI as it stands.
    const applied = await cli(['--root', root, 'migrate', 'apply', '--env', 'local']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('20240103000000_storage.sql');
  });

  it('does not for another history', async () => {
    await mkdir(join(root, 'db/migrations'), { recursive: true });
    await writeFile(join(root, 'db/migrations/20240101000000_init.sql'), 'create table t (id int);\n');
    expect((await cli(['--root', root, 'init', '--no-workflows'])).code).toBe(0);
    expect(await readFile(join(root, 'environments/local.yaml'), 'utf8')).not.toContain('platform:');
  });
});
