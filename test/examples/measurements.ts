/**
 * Exit criteria measured healthy over a soak that passes in a test run: rows written into
 * rollout.measurements as `rollout health` writes them, every 30 minutes for `hours` from the
 * moment the flag entered its position. The days of a soak are simulated (ROLLOUT_NOW), so the
 * hourly health runs the guides ask for are recorded ahead of the test clock; the gate reads
 * them like any others (test/monitors/exit-criteria.test.ts does the same on the engine's side).
 */
import type { ExampleRepo } from './support.ts';

export async function recordHealthy(repo: ExampleRepo, environment: string, flag: string, monitors: readonly string[], hours: number): Promise<void> {
  await repo.query(
    environment,
    `INSERT INTO rollout.measurements (environment, monitor, flags, at, value, verdict, detail)
     SELECT $1, m, ARRAY[$2::text], f.stage_since + make_interval(mins => 30 * g), 0, 'healthy', '0 is within its threshold'
       FROM rollout.flag_rollouts f, generate_series(0, $3::int) g, unnest($4::text[]) m WHERE f.key = $2::text`,
    [environment, flag, hours * 2, monitors],
  );
}

/** ranker.policy's exit criteria in seed 001 (environments/staging.yaml): the §4 alerts, measured hourly. */
export const SEED_001_CRITERIA = ['SLO burn rate', 'discovery queue p95 age', 'auth.login p95', 'exploration rate vs epsilon', '5xx error rate'];
