-- Seed 004: the finalized schema (abridged): provider_states and portfolio_rationales.
CREATE TABLE IF NOT EXISTS public.provider_states (
  sport text NOT NULL,
  provider text NOT NULL,
  enabled boolean NOT NULL DEFAULT false,
  active boolean NOT NULL DEFAULT false,
  PRIMARY KEY (sport, provider)
);
CREATE TABLE IF NOT EXISTS public.portfolio_rationales (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rationale_type text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE TABLE IF NOT EXISTS public.feature_flags (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
