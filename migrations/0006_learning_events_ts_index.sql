-- Built CONCURRENTLY so writes to learning_events continue during the build;
-- rollout detects this and runs the file outside a transaction.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_learning_events_ts ON public.learning_events (ts DESC);
