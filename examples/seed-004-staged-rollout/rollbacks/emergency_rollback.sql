-- Seed 004, "Immediate Rollback (< 5 minutes)", as a forward migration. Not applied from
-- here: to roll back, copy it into migrations/ with the next number, e.g.
--   cp rollbacks/emergency_rollback.sql migrations/0006_emergency_rollback.sql
-- and merge the PR; apply runs it at once (a migration has no soak), then the exit criteria,
-- which then fail, as the guide says the validator should after a rollback.
DROP TABLE IF EXISTS provider_states;
DELETE FROM portfolio_rationales WHERE rationale_type IN ('CACHE_CORRELATION', 'CACHE_FACTOR', 'CACHE_PLAYER');
