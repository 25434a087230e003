-- Seed 001, 2.E "Simulate user journey": the smoke-test user, created once, with the guide's
-- three interests and their discovery queued. The checks read what this leaves behind
-- (queue populated, suggestions returned). Idempotent: re-running changes nothing.
INSERT INTO auth.users (id, email)
VALUES ('00000000-0000-0000-0000-000000000001', 'smoke-test@example.com')
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.user_interests (user_id, interest_id, affinity)
VALUES
  ('00000000-0000-0000-0000-000000000001'::uuid, '11111111-1111-1111-1111-111111111111', 0.9),
  ('00000000-0000-0000-0000-000000000001'::uuid, '22222222-2222-2222-2222-222222222222', 0.8),
  ('00000000-0000-0000-0000-000000000001'::uuid, '33333333-3333-3333-3333-333333333333', 0.7)
ON CONFLICT (user_id, interest_id) DO UPDATE SET affinity = EXCLUDED.affinity;

SELECT public.ensure_category_for_interest('11111111-1111-1111-1111-111111111111'::uuid);
SELECT public.enqueue_discovery_for_user('00000000-0000-0000-0000-000000000001'::uuid);
