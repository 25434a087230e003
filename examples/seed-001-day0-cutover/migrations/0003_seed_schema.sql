-- Seed 001, sections 2.A–2.H and 8: the rest of the schema its smoke test, user journey and
-- troubleshooting queries read. Additive and idempotent (IF NOT EXISTS), like every file here.

-- The abridged tables of 0002 grow the columns the guide's queries use.
ALTER TABLE public.learning_events
  ADD COLUMN IF NOT EXISTS candidate_id text,
  ADD COLUMN IF NOT EXISTS p_exp real,
  ADD COLUMN IF NOT EXISTS score real,
  ADD COLUMN IF NOT EXISTS explored boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS context jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE public.marketplace_discovery_queue
  ADD COLUMN IF NOT EXISTS user_id uuid,
  ADD COLUMN IF NOT EXISTS lease_token uuid,
  ADD COLUMN IF NOT EXISTS lease_expires_at timestamptz;
ALTER TABLE public.events_queue
  ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'queued',
  ADD COLUMN IF NOT EXISTS enqueued_at timestamptz NOT NULL DEFAULT now();

-- 2.D: the catalog the seed data fills (6 of each).
CREATE TABLE IF NOT EXISTS public.interest_catalog (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS public.marketplace_categories (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS public.marketplace_interest_map (
  interest_id uuid NOT NULL REFERENCES public.interest_catalog (id),
  category_id uuid NOT NULL REFERENCES public.marketplace_categories (id),
  PRIMARY KEY (interest_id, category_id)
);
CREATE TABLE IF NOT EXISTS public.marketplace_candidates (
  id uuid PRIMARY KEY,
  category_id uuid NOT NULL REFERENCES public.marketplace_categories (id),
  title text NOT NULL
);

-- 2.A (RLS) and 2.E: what users tell the system.
CREATE TABLE IF NOT EXISTS public.user_interests (
  user_id uuid NOT NULL,
  interest_id uuid NOT NULL REFERENCES public.interest_catalog (id),
  affinity real NOT NULL CHECK (affinity BETWEEN 0 AND 1),
  PRIMARY KEY (user_id, interest_id)
);
CREATE TABLE IF NOT EXISTS public.intent_signals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL,
  signal text NOT NULL,
  ts timestamptz NOT NULL DEFAULT now()
);

-- 2.G: interests discovery found no category for.
CREATE TABLE IF NOT EXISTS public.marketplace_gaps (
  interest_id uuid PRIMARY KEY REFERENCES public.interest_catalog (id),
  detected_at timestamptz NOT NULL DEFAULT now()
);

-- Appendix: "View recent actions".
CREATE TABLE IF NOT EXISTS public.ai_action_ledger (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "timestamp" timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Section 4: the API's request log, which the kernel SLO, burn-rate and 5xx views read.
CREATE TABLE IF NOT EXISTS public.request_log (
  path text NOT NULL,
  status integer NOT NULL,
  latency_ms integer NOT NULL,
  ts timestamptz NOT NULL DEFAULT now()
);

-- 2.E: "SELECT id, email FROM auth.users". Supabase has this table; a plain Postgres gets it here.
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE
);
