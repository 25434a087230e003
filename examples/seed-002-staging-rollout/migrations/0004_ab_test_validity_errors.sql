-- Seed 002, post-rollout 5: the A/B result the analysis persists, with why it is not a valid
-- comparison ("Validity Errors: …", e.g. different commit SHAs or model hashes).
ALTER TABLE public.ab_test_results
  ADD COLUMN IF NOT EXISTS control_run_id text,
  ADD COLUMN IF NOT EXISTS treatment_run_id text,
  ADD COLUMN IF NOT EXISTS validity_errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
