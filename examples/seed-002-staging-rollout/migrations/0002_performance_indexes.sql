-- Seed 002, 2b: add_performance_indexes (REQUIRED for consolidated metrics).
-- Checks with EXPLAIN that the queries use them are configured per environment.
CREATE INDEX IF NOT EXISTS idx_phase_metrics_run_id ON public.phase_metrics (run_id);
CREATE INDEX IF NOT EXISTS idx_phase_metrics_created_at ON public.phase_metrics (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_phase_metrics_run_created ON public.phase_metrics (run_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_dashboard_events_run_id ON public.dashboard_events (run_id);
CREATE INDEX IF NOT EXISTS idx_dashboard_events_event_type ON public.dashboard_events (event_type);
CREATE INDEX IF NOT EXISTS idx_phases_run_state ON public.phases (run_id, state);
