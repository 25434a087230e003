-- Seed 001, 2.D: six interests, categories, mappings and candidates ("should show 6").
-- Idempotent: re-running inserts nothing.
INSERT INTO public.interest_catalog (id, name) VALUES
  ('11111111-1111-1111-1111-111111111111', 'hiking'),
  ('22222222-2222-2222-2222-222222222222', 'cooking'),
  ('33333333-3333-3333-3333-333333333333', 'photography'),
  ('44444444-4444-4444-4444-444444444444', 'cycling'),
  ('55555555-5555-5555-5555-555555555555', 'gardening'),
  ('66666666-6666-6666-6666-666666666666', 'music')
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.marketplace_categories (id, name)
SELECT id, name || ' gear' FROM public.interest_catalog
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.marketplace_interest_map (interest_id, category_id)
SELECT id, id FROM public.interest_catalog
ON CONFLICT DO NOTHING;

INSERT INTO public.marketplace_candidates (id, category_id, title)
SELECT id, id, 'Starter kit: ' || name FROM public.marketplace_categories
ON CONFLICT (id) DO NOTHING;
