-- Seed 001, 2.E, 2.G and the appendix: the functions the user journey and the GC call.

-- A category for an interest (the interest's own, created when missing); returns its id.
CREATE OR REPLACE FUNCTION public.ensure_category_for_interest(p_interest_id uuid) RETURNS uuid
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.marketplace_categories (id, name)
  SELECT i.id, i.name || ' gear' FROM public.interest_catalog i WHERE i.id = p_interest_id
  ON CONFLICT (id) DO NOTHING;
  INSERT INTO public.marketplace_interest_map (interest_id, category_id)
  SELECT p_interest_id, p_interest_id WHERE EXISTS (SELECT 1 FROM public.marketplace_categories WHERE id = p_interest_id)
  ON CONFLICT DO NOTHING;
  RETURN (SELECT category_id FROM public.marketplace_interest_map WHERE interest_id = p_interest_id ORDER BY category_id LIMIT 1);
END $$;

-- Queue discovery for each of a user's interests not already queued or in progress; returns how many were queued.
CREATE OR REPLACE FUNCTION public.enqueue_discovery_for_user(p_user_id uuid) RETURNS integer
LANGUAGE sql AS $$
  WITH queued AS (
    INSERT INTO public.marketplace_discovery_queue (interest_id, user_id, status)
    SELECT ui.interest_id, ui.user_id, 'queued'
    FROM public.user_interests ui
    WHERE ui.user_id = p_user_id
      AND NOT EXISTS (SELECT 1 FROM public.marketplace_discovery_queue q
                       WHERE q.user_id = ui.user_id AND q.interest_id = ui.interest_id AND q.status IN ('queued', 'processing'))
    RETURNING 1
  )
  SELECT count(*)::int FROM queued
$$;

-- Candidates in the categories of a user's interests, strongest affinity first.
CREATE OR REPLACE FUNCTION public.marketplace_suggestions_for_user(p_user_id uuid, p_limit integer)
RETURNS TABLE (candidate_id uuid, title text, category text, affinity real)
LANGUAGE sql STABLE AS $$
  SELECT c.id, c.title, mc.name, ui.affinity
  FROM public.user_interests ui
  JOIN public.marketplace_interest_map mim ON mim.interest_id = ui.interest_id
  JOIN public.marketplace_categories mc ON mc.id = mim.category_id
  JOIN public.marketplace_candidates c ON c.category_id = mc.id
  WHERE ui.user_id = p_user_id
  ORDER BY ui.affinity DESC, c.title
  LIMIT p_limit
$$;

-- Retention, run daily by the gc-* cron jobs (1.D): learning events 90 days, intent signals 30.
CREATE OR REPLACE FUNCTION public.gc_learning_events() RETURNS integer
LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM public.learning_events WHERE ts < now() - interval '90 days' RETURNING 1)
  SELECT count(*)::int FROM gone
$$;
CREATE OR REPLACE FUNCTION public.gc_intent_signals() RETURNS integer
LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM public.intent_signals WHERE ts < now() - interval '30 days' RETURNING 1)
  SELECT count(*)::int FROM gone
$$;
