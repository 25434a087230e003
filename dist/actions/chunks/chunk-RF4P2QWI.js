import { createRequire as __rolloutCreateRequire } from 'node:module'; import { dirname as __rolloutDirname } from 'node:path'; import { fileURLToPath as __rolloutFileURLToPath } from 'node:url'; const require = __rolloutCreateRequire(import.meta.url); const __filename = __rolloutFileURLToPath(import.meta.url); const __dirname = __rolloutDirname(__filename);
var l=["uuid-ossp","pgcrypto"],o=[{name:"pg_graphql",schema:"graphql"},{name:"supabase_vault",schema:"vault"},{name:"pgsodium",schema:"pgsodium"},{name:"pgjwt"},{name:"pg_cron",script:N()},{name:"pg_net",script:A()}],r="0.0-rollout";function c(){let e={};for(let{name:a,schema:n,script:s}of o){let E=s?"records calls, runs and sends nothing":"creates nothing";e[`extension/${a}.control`]=[`comment = 'rollout stand-in for the Supabase extension ${a}: ${E}'`,`default_version = '${r}'`,...n?["relocatable = false",`schema = ${n}`]:[`relocatable = ${s?"false":"true"}`],""].join(`
`),e[`extension/${a}--${r}.sql`]=`-- rollout stand-in for Supabase's ${a} (database.platform: supabase on the embedded database): ${E}.
${s??""}`}return e}function N(){return`CREATE SCHEMA IF NOT EXISTS cron;
CREATE TABLE cron.job (
  jobid bigserial PRIMARY KEY, schedule text NOT NULL, command text NOT NULL,
  nodename text NOT NULL DEFAULT 'localhost', nodeport integer NOT NULL DEFAULT 5432,
  database text NOT NULL DEFAULT current_database(), username text NOT NULL DEFAULT current_user,
  active boolean NOT NULL DEFAULT true, jobname text,
  UNIQUE (jobname, username)
);
CREATE TABLE cron.job_run_details (
  jobid bigint, runid bigserial PRIMARY KEY, job_pid integer, database text, username text, command text,
  status text, return_message text, start_time timestamptz, end_time timestamptz
);
-- Scheduling a name again replaces that job, as pg_cron does.
CREATE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint LANGUAGE sql AS $fn$
  INSERT INTO cron.job (jobname, schedule, command) VALUES ($1, $2, $3)
  ON CONFLICT (jobname, username) DO UPDATE SET schedule = EXCLUDED.schedule, command = EXCLUDED.command, active = true
  RETURNING jobid
$fn$;
CREATE FUNCTION cron.schedule(schedule text, command text) RETURNS bigint LANGUAGE sql AS $fn$
  INSERT INTO cron.job (schedule, command) VALUES ($1, $2) RETURNING jobid
$fn$;
CREATE FUNCTION cron.schedule_in_database(job_name text, schedule text, command text, database text, username text DEFAULT NULL, active boolean DEFAULT true) RETURNS bigint LANGUAGE sql AS $fn$
  INSERT INTO cron.job (jobname, schedule, command, database, username, active) VALUES ($1, $2, $3, $4, coalesce($5, current_user), $6)
  ON CONFLICT (jobname, username) DO UPDATE SET schedule = EXCLUDED.schedule, command = EXCLUDED.command, database = EXCLUDED.database, active = EXCLUDED.active
  RETURNING jobid
$fn$;
CREATE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM cron.job WHERE jobid = $1;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job %', $1; END IF;
  RETURN true;
END
$fn$;
CREATE FUNCTION cron.unschedule(job_name text) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM cron.job WHERE jobname = $1 AND username = current_user;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job ''%''', $1; END IF;
  RETURN true;
END
$fn$;
CREATE FUNCTION cron.alter_job(job_id bigint, schedule text DEFAULT NULL, command text DEFAULT NULL, database text DEFAULT NULL, username text DEFAULT NULL, active boolean DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE cron.job AS j SET schedule = coalesce($2, j.schedule), command = coalesce($3, j.command), database = coalesce($4, j.database), username = coalesce($5, j.username), active = coalesce($6, j.active) WHERE j.jobid = $1;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job %', $1; END IF;
END
$fn$;
`}function A(){let e=(a,n,s,E,T)=>`INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds) VALUES ('${a}', net._url($1, ${n}), ${s}, ${E}, ${T}) RETURNING id`;return`CREATE SCHEMA IF NOT EXISTS net;
CREATE TABLE net.http_request_queue (
  id bigserial PRIMARY KEY, method text NOT NULL, url text NOT NULL, headers jsonb NOT NULL,
  body bytea, timeout_milliseconds integer NOT NULL
);
CREATE TABLE net._http_response (
  id bigint, status_code integer, content_type text, headers jsonb, content text, timed_out boolean,
  error_msg text, created timestamptz NOT NULL DEFAULT now()
);
-- The URL with its params appended, as pg_net sends it.
CREATE FUNCTION net._url(url text, params jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN $2 IS NULL OR $2 = '{}'::jsonb THEN $1
    ELSE $1 || CASE WHEN position('?' IN $1) > 0 THEN '&' ELSE '?' END
      || (SELECT string_agg(key || '=' || value, '&' ORDER BY key) FROM jsonb_each_text($2)) END
$fn$;
CREATE FUNCTION net.http_get(url text, params jsonb DEFAULT '{}'::jsonb, headers jsonb DEFAULT '{}'::jsonb, timeout_milliseconds integer DEFAULT 5000) RETURNS bigint LANGUAGE sql AS $fn$
  ${e("GET","$2","$3","NULL","$4")}
$fn$;
CREATE FUNCTION net.http_post(url text, body jsonb DEFAULT '{}'::jsonb, params jsonb DEFAULT '{}'::jsonb, headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb, timeout_milliseconds integer DEFAULT 5000) RETURNS bigint LANGUAGE sql AS $fn$
  ${e("POST","$3","$4","convert_to($2::text, 'UTF8')","$5")}
$fn$;
CREATE FUNCTION net.http_delete(url text, params jsonb DEFAULT '{}'::jsonb, headers jsonb DEFAULT '{}'::jsonb, timeout_milliseconds integer DEFAULT 5000) RETURNS bigint LANGUAGE sql AS $fn$
  ${e("DELETE","$2","$3","NULL","$4")}
$fn$;
`}function m(e){return o.some(a=>a.name===e)}function L(e){return/(?:^|\/)supabase\/migrations$/.test(e.replace(/\\/g,"/").replace(/\/+$/,""))}var d='"$user", public, extensions',i="rollout stand-in for the Supabase platform (v1); not Supabase Auth",t="anon, authenticated, service_role";function S(){return`DO $rollout_supabase$
BEGIN
  IF obj_description(to_regnamespace('auth'), 'pg_namespace') = '${i}' THEN
    RETURN;
  END IF;

  -- Roles: the API roles PostgREST switches to, the role it logs in as, and the services' owners.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN CREATE ROLE authenticator LOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_admin') THEN CREATE ROLE supabase_admin NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_storage_admin') THEN CREATE ROLE supabase_storage_admin NOLOGIN NOINHERIT; END IF;
  GRANT ${t} TO authenticator;

  -- public: usable by the API roles, and what the project's owner creates there is theirs too.
  GRANT USAGE ON SCHEMA public TO postgres, ${t};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO postgres, ${t};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO postgres, ${t};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO postgres, ${t};

  -- extensions: where the project's extensions live (CREATE EXTENSION ... WITH SCHEMA extensions).
  CREATE SCHEMA IF NOT EXISTS extensions;
  CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
  CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
  GRANT USAGE ON SCHEMA extensions TO postgres, ${t};
  -- The schemas of the extensions a project has installed, which dumps name (CREATE EXTENSION ... WITH SCHEMA graphql): the stand-ins go there.
${o.filter(e=>e.schema!==void 0).map(e=>`  CREATE SCHEMA IF NOT EXISTS ${e.schema};`).join(`
`)}
  CREATE SCHEMA IF NOT EXISTS graphql_public;
  GRANT USAGE ON SCHEMA graphql, graphql_public TO postgres, ${t};

  -- auth: the users apps reference (foreign keys, triggers on sign-up) and the claim readers policies call.
  CREATE SCHEMA IF NOT EXISTS auth;
  CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid NOT NULL PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text UNIQUE,
    phone_confirmed_at timestamptz,
    phone_change text DEFAULT '',
    phone_change_token varchar(255) DEFAULT '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
    email_change_token_current varchar(255) DEFAULT '',
    email_change_confirm_status smallint DEFAULT 0,
    banned_until timestamptz,
    reauthentication_token varchar(255) DEFAULT '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    is_anonymous boolean NOT NULL DEFAULT false
  );
  CREATE TABLE IF NOT EXISTS auth.identities (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
    UNIQUE (provider_id, provider)
  );
  -- The claims PostgREST sets per request: request.jwt.claims (JSON), or the older one-setting-per-claim form.
  CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''), nullif(current_setting('request.jwt.claims', true), ''))::jsonb
  $fn$;
  CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''), nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
  $fn$;
  CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(nullif(current_setting('request.jwt.claim.role', true), ''), nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')::text
  $fn$;
  CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(nullif(current_setting('request.jwt.claim.email', true), ''), nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')::text
  $fn$;
  GRANT USAGE ON SCHEMA auth TO ${t};
  GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
  GRANT ALL ON ALL TABLES IN SCHEMA auth TO supabase_auth_admin;

  -- storage: buckets (apps insert theirs in a migration) and objects (apps write RLS policies on it).
  CREATE SCHEMA IF NOT EXISTS storage;
  CREATE TABLE IF NOT EXISTS storage.buckets (
    id text NOT NULL PRIMARY KEY,
    name text NOT NULL,
    owner uuid,
    owner_id text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    public boolean DEFAULT false,
    avif_autodetection boolean DEFAULT false,
    file_size_limit bigint,
    allowed_mime_types text[]
  );
  CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets (name);
  CREATE TABLE IF NOT EXISTS storage.objects (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    last_accessed_at timestamptz DEFAULT now(),
    metadata jsonb,
    path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
    version text,
    user_metadata jsonb
  );
  CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects (bucket_id, name);
  ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
  ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
  -- 'a/b/c.png': foldername {a,b}, filename c.png, extension png (what storage policies call).
  CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $fn$
    SELECT parts[1:array_length(parts, 1) - 1] FROM (SELECT string_to_array(name, '/') AS parts) AS split
  $fn$;
  CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT parts[array_length(parts, 1)] FROM (SELECT string_to_array(name, '/') AS parts) AS split
  $fn$;
  CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT reverse(split_part(reverse(storage.filename(name)), '.', 1))
  $fn$;
  GRANT USAGE ON SCHEMA storage TO postgres, ${t};
  GRANT ALL ON ALL TABLES IN SCHEMA storage TO postgres, ${t};
  ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON TABLES TO postgres, ${t};
  ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON FUNCTIONS TO postgres, ${t};
  ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON SEQUENCES TO postgres, ${t};
  GRANT ALL ON SCHEMA storage TO supabase_storage_admin;

  -- Realtime: the (empty) publication apps add their tables to, and the broadcast messages Realtime Authorization policies are written on.
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN CREATE PUBLICATION supabase_realtime; END IF;
  CREATE SCHEMA IF NOT EXISTS realtime;
  CREATE TABLE IF NOT EXISTS realtime.messages (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    topic text NOT NULL,
    extension text NOT NULL,
    payload jsonb,
    event text,
    private boolean DEFAULT false,
    updated_at timestamp NOT NULL DEFAULT now(),
    inserted_at timestamp NOT NULL DEFAULT now()
  );
  ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;
  CREATE OR REPLACE FUNCTION realtime.topic() RETURNS text LANGUAGE sql STABLE AS $fn$
    SELECT nullif(current_setting('realtime.topic', true), '')::text
  $fn$;
  GRANT USAGE ON SCHEMA realtime TO postgres, ${t};
  GRANT SELECT, INSERT, UPDATE ON realtime.messages TO postgres, ${t};

  -- Database webhooks: triggers call supabase_functions.http_request(url, method, headers, params, timeout), which
  -- posts the row with pg_net on the platform. The stand-in sends nothing.
  CREATE SCHEMA IF NOT EXISTS supabase_functions;
  CREATE OR REPLACE FUNCTION supabase_functions.http_request() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    RETURN NEW;
  END
  $fn$;
  GRANT USAGE ON SCHEMA supabase_functions TO postgres, ${t};

  COMMENT ON SCHEMA auth IS '${i}';
END
$rollout_supabase$;`}var u=new RegExp([String.raw`schema "(?:extensions|auth|storage|realtime|graphql|graphql_public|vault|pgsodium|supabase_functions)" does not exist`,String.raw`relation "(?:auth|storage|realtime)\.[^"]+" does not exist`,String.raw`function (?:auth|storage|realtime|extensions|supabase_functions)\.\w+\(.*\) does not exist`,String.raw`function (?:uuid_generate_v[1-5]\w*|gen_random_bytes|gen_salt|crypt|digest|hmac)\(.*\) does not exist`,String.raw`role "(?:anon|authenticated|service_role|authenticator|supabase_\w+|dashboard_user)" does not exist`,String.raw`publication "supabase_realtime" does not exist`].join("|"));function p(e){return u.test(e)}function R(e,a){return e==="embedded"?`This migration expects an object a Supabase project provides. If the history is a Supabase one, set database.platform: supabase in ${a} (database: { embedded: \u2026, platform: supabase }): the embedded database is then given stand-ins for the roles anon, authenticated and service_role, the schemas extensions, auth and storage, and the publication supabase_realtime before migrations run (docs/migrations.md).`:`This migration expects an object a Supabase project provides, and the server in ${a} lacks it: run this history against a Supabase project's database, or create what it needs in an earlier migration.`}export{l as a,o as b,c,m as d,L as e,d as f,S as g,p as h,R as i};
