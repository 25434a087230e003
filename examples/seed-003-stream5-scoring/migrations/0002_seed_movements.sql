-- Seed 003, phase 2: the 8 foundational movements, each imported then published, once.
-- Idempotent: re-running inserts nothing (ON CONFLICT, and audit rows only for new movements).
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
