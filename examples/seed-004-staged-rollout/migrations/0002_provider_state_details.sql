-- Seed 004, "Provider States Architecture": what each of the 28 provider states carries —
-- its priority (the 8 high-priority providers of partial_active), its polling interval
-- ("optimized polling intervals"), and a cache key so that cache entries import once.
ALTER TABLE public.provider_states
  ADD COLUMN IF NOT EXISTS priority text NOT NULL DEFAULT 'normal',
  ADD COLUMN IF NOT EXISTS poll_interval_seconds integer,
  ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE public.portfolio_rationales
  ADD COLUMN IF NOT EXISTS cache_key text,
  ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX IF NOT EXISTS portfolio_rationales_cache_key ON public.portfolio_rationales (cache_key);
