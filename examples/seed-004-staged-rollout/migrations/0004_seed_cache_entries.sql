-- Seed 004, "Cache Population Architecture": 25 cache entries in portfolio_rationales —
-- 15 CACHE_CORRELATION, 6 CACHE_PLAYER, 4 CACHE_FACTOR — with the guide's top correlations
-- and player profiles. Idempotent (cache_key).
INSERT INTO public.portfolio_rationales (cache_key, rationale_type, payload)
SELECT 'correlation:' || sport || ':' || stat, 'CACHE_CORRELATION',
       jsonb_build_object('sport', sport, 'stat', stat, 'strength', strength, 'confidence', confidence)
FROM (VALUES ('MLB', 'hits', 0.82, 0.82), ('MLB', 'runs', 0.61, 0.64), ('MLB', 'strikeouts', 0.58, 0.60), ('MLB', 'total_bases', 0.66, 0.65),
             ('NBA', 'points', 0.75, 0.75), ('NBA', 'rebounds', 0.57, 0.61), ('NBA', 'assists', 0.63, 0.62), ('NBA', 'threes', 0.52, 0.55),
             ('NFL', 'passing_yards', 0.78, 0.78), ('NFL', 'rushing_yards', 0.64, 0.63), ('NFL', 'receptions', 0.59, 0.60), ('NFL', 'touchdowns', 0.55, 0.57),
             ('NHL', 'goals', 0.54, 0.58), ('NHL', 'shots', 0.62, 0.61), ('NHL', 'saves', 0.57, 0.59)) AS c (sport, stat, strength, confidence)
UNION ALL
SELECT 'player:' || team || ':' || player, 'CACHE_PLAYER',
       jsonb_build_object('player', player, 'team', team, 'sport', sport, 'props', props, 'confidence', confidence)
FROM (VALUES ('LeBron James', 'LAL', 'NBA', 15, 0.75), ('Aaron Judge', 'NYY', 'MLB', 10, 0.75), ('Patrick Mahomes', 'KC', 'NFL', 8, 0.75),
             ('Connor McDavid', 'EDM', 'NHL', 7, 0.72), ('Stephen Curry', 'GSW', 'NBA', 9, 0.71), ('Shohei Ohtani', 'LAD', 'MLB', 12, 0.74)) AS p (player, team, sport, props, confidence)
UNION ALL
SELECT 'factor:' || sport, 'CACHE_FACTOR', jsonb_build_object('sport', sport, 'factors', factors)
FROM (VALUES ('MLB', '["ballpark", "weather"]'::jsonb), ('NBA', '["rest_days", "pace"]'::jsonb),
             ('NFL', '["weather", "injuries"]'::jsonb), ('NHL', '["back_to_back", "goalie"]'::jsonb)) AS f (sport, factors)
ON CONFLICT (cache_key) DO NOTHING;
