-- Seed 002, post-rollout 2 "Performance Monitoring" (first 24 hours): the API and the
-- database timings the service records, and the p95 views the monitors read.
CREATE TABLE IF NOT EXISTS public.api_requests (
  path text NOT NULL,          -- the route, e.g. /api/runs/{id}
  status integer NOT NULL,
  duration_ms real NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.db_timings (
  operation text NOT NULL,     -- e.g. phase_metrics write, consolidated metrics query
  duration_ms real NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);

-- Last hour, per route: requests, p95 response time, 5xx answers.
CREATE OR REPLACE VIEW public.vw_api_latency AS
SELECT path,
       count(*)::int AS requests,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95_ms,
       (count(*) FILTER (WHERE status >= 500))::int AS errors
FROM public.api_requests
WHERE at > now() - interval '1 hour'
GROUP BY path;

-- Last hour, per database operation: samples and p95 time.
CREATE OR REPLACE VIEW public.vw_db_latency AS
SELECT operation,
       count(*)::int AS samples,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95_ms
FROM public.db_timings
WHERE at > now() - interval '1 hour'
GROUP BY operation;
