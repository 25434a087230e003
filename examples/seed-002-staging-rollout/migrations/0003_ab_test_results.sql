-- Seed 002, 2b: add_ab_test_results (REQUIRED for A/B persistence).
CREATE TABLE IF NOT EXISTS public.ab_test_results (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  test_id text NOT NULL,
  is_valid boolean NOT NULL,
  token_delta bigint
);
CREATE INDEX IF NOT EXISTS idx_ab_test_id ON public.ab_test_results (test_id);
CREATE INDEX IF NOT EXISTS idx_ab_validity ON public.ab_test_results (is_valid);
