-- The table services read their flags from (seed 001, section 1.B). rollout writes
-- it; environments point their flag_store at it.
CREATE TABLE IF NOT EXISTS public.feature_flags (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
