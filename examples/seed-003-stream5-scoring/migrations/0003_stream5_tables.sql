-- Seed 003, infrastructure requirements: the four tables (movement_library,
-- movement_staging, movement_audit_log, plan_jobs) and the columns its queries read.
ALTER TABLE public.movement_library
  ADD COLUMN IF NOT EXISTS modalities text[] NOT NULL DEFAULT '{}';

-- Where the import CLI puts each movement before it is published (one row per import).
CREATE TABLE IF NOT EXISTS public.movement_staging (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  movement_id text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'imported', 'failed')),
  error text,
  imported_at timestamptz NOT NULL DEFAULT now()
);

-- Plan generation jobs; result_data.scoring is the scoring payload (contracts/scoring-payload).
CREATE TABLE IF NOT EXISTS public.plan_jobs (
  job_id text PRIMARY KEY,
  user_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  result_data jsonb,
  scoring_error text,          -- set when scoring failed for this plan ("scoring calculation errors")
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS plan_jobs_created_at ON public.plan_jobs (created_at DESC);
