-- Seed 003, phase 1: the planning tables (abridged), and the flag table services read.
CREATE TABLE IF NOT EXISTS public.movement_library (
  movement_id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  category text NOT NULL,
  status text NOT NULL DEFAULT 'published'
);
CREATE TABLE IF NOT EXISTS public.movement_audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  movement_id text NOT NULL REFERENCES public.movement_library (movement_id),
  action text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.feature_flags (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
