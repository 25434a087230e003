-- Seed 004, "Provider States Summary": 7 providers per sport (MLB, NBA, NFL, NHL) = 28;
-- 3 enabled per sport (draftkings, fanduel, stub) = 12; 1 active per sport (stub, before
-- the rollout activates the others); draftkings and fanduel are the 8 high-priority ones.
INSERT INTO public.provider_states (sport, provider, enabled, active, priority, poll_interval_seconds)
SELECT s.sport, p.provider, p.enabled, p.provider = 'stub', p.priority, p.poll_interval_seconds
FROM (VALUES ('MLB'), ('NBA'), ('NFL'), ('NHL')) AS s (sport)
CROSS JOIN (VALUES ('draftkings', true, 'high', 30),
                   ('fanduel', true, 'high', 30),
                   ('stub', true, 'normal', 60),
                   ('betmgm', false, 'normal', NULL),
                   ('caesars', false, 'normal', NULL),
                   ('pointsbet', false, 'normal', NULL),
                   ('bet365', false, 'normal', NULL)) AS p (provider, enabled, priority, poll_interval_seconds)
ON CONFLICT (sport, provider) DO NOTHING;
