-- Seed 002, 2b: the tables Phase 6 writes (abridged).
CREATE TABLE IF NOT EXISTS public.phases (
  run_id text NOT NULL,
  phase_id text NOT NULL,
  state text NOT NULL,
  PRIMARY KEY (run_id, phase_id)
);
CREATE TABLE IF NOT EXISTS public.phase_metrics (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  phase_id text NOT NULL,
  retrieval_tokens bigint,
  second_opinion_tokens bigint,
  evidence_request_tokens bigint,
  base_tokens bigint,
  total_tokens bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.dashboard_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  event_type text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.feature_flags (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
