-- Seed 001, 2.A: the critical tables the smoke test expects (abridged to their keys).
CREATE TABLE IF NOT EXISTS public.learning_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL,
  surface text NOT NULL,
  policy text NOT NULL,
  reward double precision,
  ts timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.rate_limits (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  hits integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS public.marketplace_discovery_queue (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  interest_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'queued',
  enqueued_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.events_queue (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb
);
