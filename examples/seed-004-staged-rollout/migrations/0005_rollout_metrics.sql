-- Seed 004, "Validated Metrics" of each stage: every provider request the service makes,
-- and the last 15 minutes of them (the health check runs every 15 minutes) as the numbers
-- the exit criteria read: cache hit rate (≥ 70 %), average response time (< 1000 ms), errors.
CREATE TABLE IF NOT EXISTS public.provider_requests (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sport text NOT NULL,
  provider text NOT NULL,
  cache_hit boolean NOT NULL,
  response_ms real NOT NULL,
  error boolean NOT NULL DEFAULT false,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS provider_requests_at ON public.provider_requests (at DESC);

CREATE OR REPLACE VIEW public.vw_rollout_metrics AS
SELECT count(*)::int AS requests,
       avg(CASE WHEN cache_hit THEN 1.0 ELSE 0.0 END)::float8 AS cache_hit_rate,
       avg(response_ms)::float8 AS avg_response_ms,
       (count(*) FILTER (WHERE error))::int AS errors,
       count(DISTINCT (sport, provider))::int AS providers_tracked
FROM public.provider_requests
WHERE at > now() - interval '15 minutes';
