-- Seed 003, "Rollback: Movement Seeding" (truncate, then re-seed from the known-good source),
-- as a forward migration. Not applied from here: to roll back, copy it into migrations/ with
-- the next number, e.g.
--   cp rollbacks/reseed_movements.sql migrations/0005_reseed_movements.sql
-- and merge the PR; the checks after that apply prove 8 movements and 16 audit rows again.
TRUNCATE movement_library, movement_staging, movement_audit_log CASCADE;

-- The seed again: migrations/0002_seed_movements.sql …
WITH movements (movement_id, name, category) AS (
  VALUES ('mv-back-squat', 'Back Squat', 'strength'),
         ('mv-deadlift', 'Deadlift', 'strength'),
         ('mv-bench-press', 'Bench Press', 'strength'),
         ('mv-overhead-press', 'Overhead Press', 'strength'),
         ('mv-pull-up', 'Pull-Up', 'strength'),
         ('mv-row', 'Barbell Row', 'strength'),
         ('mv-lunge', 'Walking Lunge', 'strength'),
         ('mv-plank', 'Plank', 'core')
), inserted AS (
  INSERT INTO public.movement_library (movement_id, name, category, status)
  SELECT movement_id, name, category, 'published' FROM movements
  ON CONFLICT (movement_id) DO NOTHING
  RETURNING movement_id
)
INSERT INTO public.movement_audit_log (movement_id, action)
SELECT movement_id, action FROM inserted CROSS JOIN (VALUES ('imported'), ('published')) AS a (action);

-- … and migrations/0004_movement_modalities.sql.
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
