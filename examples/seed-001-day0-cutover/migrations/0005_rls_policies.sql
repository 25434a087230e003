-- Seed 001, 2.A: row level security on the five tables its smoke test lists. The policies key
-- on settings the API sets per request (app.user_id, app.role).
ALTER TABLE public.user_interests ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.intent_signals ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.marketplace_discovery_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.learning_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.rate_limits ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS user_interests_owner ON public.user_interests;
CREATE POLICY user_interests_owner ON public.user_interests
  USING (user_id::text = current_setting('app.user_id', true));
DROP POLICY IF EXISTS user_interests_service ON public.user_interests;
CREATE POLICY user_interests_service ON public.user_interests
  USING (current_setting('app.role', true) = 'service');

DROP POLICY IF EXISTS intent_signals_owner ON public.intent_signals;
CREATE POLICY intent_signals_owner ON public.intent_signals
  USING (user_id::text = current_setting('app.user_id', true));

DROP POLICY IF EXISTS discovery_queue_service ON public.marketplace_discovery_queue;
CREATE POLICY discovery_queue_service ON public.marketplace_discovery_queue
  USING (current_setting('app.role', true) = 'service');

DROP POLICY IF EXISTS learning_events_owner ON public.learning_events;
CREATE POLICY learning_events_owner ON public.learning_events
  USING (user_id::text = current_setting('app.user_id', true));
DROP POLICY IF EXISTS learning_events_service ON public.learning_events;
CREATE POLICY learning_events_service ON public.learning_events
  USING (current_setting('app.role', true) = 'service');

DROP POLICY IF EXISTS rate_limits_service ON public.rate_limits;
CREATE POLICY rate_limits_service ON public.rate_limits
  USING (current_setting('app.role', true) = 'service');
