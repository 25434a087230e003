-- Health views the smoke checks and monitors read (seed 001, sections 2.B, 2.C and 4).
CREATE OR REPLACE VIEW public.vw_discovery_queue_health AS
SELECT status,
       count(*)::int AS items,
       coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM now() - enqueued_at)), 0)::float8 AS p95_age_sec
FROM public.marketplace_discovery_queue
GROUP BY status;

CREATE OR REPLACE VIEW public.vw_dead_letter_queue AS
SELECT * FROM public.marketplace_discovery_queue WHERE status = 'error';

CREATE OR REPLACE VIEW public.vw_events_queue_health AS
SELECT topic, status, count(*)::int AS items
FROM public.events_queue
GROUP BY topic, status;

CREATE OR REPLACE VIEW public.vw_policy_health AS
SELECT policy,
       count(*)::int AS decisions,
       avg(CASE WHEN explored THEN 1.0 ELSE 0.0 END)::float8 AS exploration_rate,
       avg(reward)::float8 AS mean_reward
FROM public.learning_events
WHERE ts > now() - interval '1 hour'
GROUP BY policy;

-- Requests per path with their error counts, fed by the API's request log.
CREATE TABLE IF NOT EXISTS public.request_log (
  path text NOT NULL,
  ok boolean NOT NULL,
  latency_ms integer NOT NULL,
  ts timestamptz NOT NULL DEFAULT now()
);

-- Error-budget burn rate per path over the last hour against a 99.9% SLO.
CREATE OR REPLACE VIEW public.vw_slo_burnrate AS
SELECT path,
       ((1 - avg(CASE WHEN ok THEN 1.0 ELSE 0.0 END)) / 0.001)::float8 AS burn_rate
FROM public.request_log
WHERE ts > now() - interval '1 hour'
GROUP BY path;

CREATE OR REPLACE VIEW public.vw_kernel_slos AS
SELECT path,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::float8 AS p95_ms
FROM public.request_log
WHERE ts > now() - interval '1 hour'
GROUP BY path;
