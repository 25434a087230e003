-- Seed 003, phase 2: the modalities of the 8 foundational movements, and the import record
-- the seed script leaves in movement_staging (one imported row per movement). Idempotent.
UPDATE public.movement_library AS m SET modalities = v.modalities
FROM (VALUES ('mv-back-squat', ARRAY['barbell']),
             ('mv-deadlift', ARRAY['barbell']),
             ('mv-bench-press', ARRAY['barbell', 'dumbbell']),
             ('mv-overhead-press', ARRAY['barbell', 'dumbbell']),
             ('mv-pull-up', ARRAY['bodyweight']),
             ('mv-row', ARRAY['barbell', 'dumbbell']),
             ('mv-lunge', ARRAY['bodyweight', 'dumbbell']),
             ('mv-plank', ARRAY['bodyweight'])) AS v (movement_id, modalities)
WHERE m.movement_id = v.movement_id AND m.modalities = '{}';

INSERT INTO public.movement_staging (movement_id, payload, status)
SELECT m.movement_id, jsonb_build_object('name', m.name, 'category', m.category, 'modalities', to_jsonb(m.modalities)), 'imported'
FROM public.movement_library m
WHERE NOT EXISTS (SELECT 1 FROM public.movement_staging s WHERE s.movement_id = m.movement_id);
