-- Seed 001, Day-0 cutover: the tables the learning and discovery services use.
-- Idempotent (IF NOT EXISTS) so it can adopt a database that already has them.
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

CREATE TABLE IF NOT EXISTS public.learning_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL,
  surface text NOT NULL,
  candidate_id text NOT NULL,
  policy text NOT NULL,
  p_exp real NOT NULL,
  score real NOT NULL,
  explored boolean NOT NULL,
  reward real,
  context jsonb NOT NULL DEFAULT '{}'::jsonb,
  ts timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.rate_limits (
  key text PRIMARY KEY,
  tokens integer NOT NULL,
  refreshed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.marketplace_discovery_queue (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  interest_id uuid NOT NULL REFERENCES public.interest_catalog (id),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'done', 'error')),
  lease_token uuid,
  lease_expires_at timestamptz,
  enqueued_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.events_queue (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'queued',
  enqueued_at timestamptz NOT NULL DEFAULT now()
);
