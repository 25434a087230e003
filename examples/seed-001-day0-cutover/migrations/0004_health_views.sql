-- Seed 001, sections 2.B, 2.C and 4: the views its smoke test and its alert thresholds read.
CREATE OR REPLACE VIEW public.vw_discovery_queue_health AS
SELECT status,
       count(*)::int AS items,
       coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM now() - enqueued_at)), 0)::float8 AS p95_age_sec
FROM public.marketplace_discovery_queue
GROUP BY status;

-- Items the worker gave up on ("Clear DLQ": DELETE … WHERE status = 'error').
CREATE OR REPLACE VIEW public.vw_dead_letter_queue AS
SELECT * FROM public.marketplace_discovery_queue WHERE status = 'error';

CREATE OR REPLACE VIEW public.vw_events_queue_health AS
SELECT topic, status, count(*)::int AS items,
       coalesce(max(extract(epoch FROM now() - enqueued_at)), 0)::float8 AS max_age_sec
FROM public.events_queue
GROUP BY topic, status;

-- Decisions of the last hour per policy. epsilon is the mean exploration probability the
-- ranker logged (p_exp), so exploration_deviation is "how far exploration_rate is from ε",
-- as a fraction of ε: the alert fires above 0.5 (± 50 %).
CREATE OR REPLACE VIEW public.vw_policy_health AS
SELECT policy,
       count(*)::int AS decisions,
       avg(CASE WHEN explored THEN 1.0 ELSE 0.0 END)::float8 AS exploration_rate,
       avg(p_exp)::float8 AS epsilon,
       (abs(avg(CASE WHEN explored THEN 1.0 ELSE 0.0 END) - avg(p_exp)) / nullif(avg(p_exp), 0))::float8 AS exploration_deviation,
       avg(reward)::float8 AS mean_reward,
       max(ts) AS last_decision_at
FROM public.learning_events
WHERE ts > now() - interval '1 hour'
GROUP BY policy;

-- Error-budget burn rate per path over the last hour against a 99.9 % SLO (5xx are errors).
CREATE OR REPLACE VIEW public.vw_slo_burnrate AS
SELECT path,
       count(*)::int AS requests,
       (avg(CASE WHEN status >= 500 THEN 1.0 ELSE 0.0 END) / 0.001)::float8 AS burn_rate
FROM public.request_log
WHERE ts > now() - interval '1 hour'
GROUP BY path;

-- p95 latency per path over the last hour (the alert reads auth.login).
CREATE OR REPLACE VIEW public.vw_kernel_slos AS
SELECT path,
       count(*)::int AS requests,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::float8 AS p95_ms
FROM public.request_log
WHERE ts > now() - interval '1 hour'
GROUP BY path;

-- Share of 5xx answers over the last hour, all paths (NULL without traffic: unknown, not healthy).
CREATE OR REPLACE VIEW public.vw_http_error_rate AS
SELECT (count(*) FILTER (WHERE status >= 500))::float8 / nullif(count(*), 0) AS error_rate,
       count(*)::int AS requests
FROM public.request_log
WHERE ts > now() - interval '1 hour';
